package org.bagnet4j.cli;

import java.io.PrintStream;
import java.nio.file.Path;

import org.bagnet4j.BagNet;

/** The model of a command: the --model file, or the one embedded in the jar (said on stderr). */
final class ModelChoice {
    private ModelChoice() {
    }

    static BagNet load(Options options, int threads, PrintStream err) {
        BagNet model;
        if (options.has("model")) {
            model = BagNet.load(ArgumentPath.of(options.required("model")), threads);
        } else {
            err.println("bagnet4j: no --model given: using the embedded " + BagNet.EMBEDDED_NAME
                    + " (Fashion-MNIST, 28x28 grayscale, 10 classes)");
            model = BagNet.embedded(threads);
        }
        return model;
    }
}
