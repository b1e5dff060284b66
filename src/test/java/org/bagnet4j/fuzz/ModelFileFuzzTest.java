package org.bagnet4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.bagnet4j.BagNet;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.SafetensorsFile;
import org.junit.jupiter.api.Tag;

/** Safetensors files and model files built from them: parsed, validated, loaded and run on a one-patch input. */
@Tag("fuzz")
class ModelFileFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void safetensors(byte[] data) {
        Allowed.onlyBagNetException(() -> {
            try (SafetensorsFile file = SafetensorsFile.of(data, "fuzz.safetensors")) {
                for (SafetensorsFile.Entry e : file.entries().values()) {
                    if (e.dtype().equals("F32")) {
                        file.readFloats(e.name());
                    }
                }
            }
        });
        Allowed.onlyBagNetException(() -> {
            BagNet model = BagNet.load(Allowed.scratch("model.safetensors", data), 1);
            int q = model.receptiveField();
            if (q <= 64) {
                model.classScores(Tensor.zeros(1, q, q, model.config().inChannels()));
            }
        });
    }
}
