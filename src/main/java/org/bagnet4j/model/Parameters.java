package org.bagnet4j.model;

import java.util.function.Function;

import org.bagnet4j.BagNetException;

/** Checks on state_dict parameters as a network is built from them. */
final class Parameters {
    private Parameters() {
    }

    /** The parameters, each checked to hold finite values only: one NaN or infinity makes every score NaN. */
    static Function<String, float[]> finiteOnly(Function<String, float[]> parameters) {
        return name -> {
            float[] values = parameters.apply(name);
            for (int i = 0; i < values.length; i++) {
                if (!Float.isFinite(values[i])) {
                    throw new BagNetException("parameter '" + name + "' holds " + values[i] + " at index " + i
                            + "; weights must be finite");
                }
            }
            return values;
        };
    }
}
