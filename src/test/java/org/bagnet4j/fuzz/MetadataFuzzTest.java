package org.bagnet4j.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.BagNetConfig;
import org.bagnet4j.Labels;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.Tag;

/** A model file's metadata (architecture, preprocessing, labels), and the JSON reader of file headers. */
@Tag("fuzz")
class MetadataFuzzTest {
    private static final List<String> KEYS = List.of("arch", "in_channels", "stem_channels", "widths", "blocks",
            "strides", "kernel3", "num_classes", "resize", "crop", "pad", "mean", "std", "labels");

    @FuzzTest(maxDuration = "10m")
    void metadata(FuzzedDataProvider data) {
        Map<String, String> metadata = new LinkedHashMap<>();
        for (String key : KEYS) {
            if (data.consumeBoolean()) {
                metadata.put("bagnet4j." + key, data.consumeString(48));
            }
        }
        Allowed.onlyBagNetException(() -> {
            BagNetConfig config = BagNetConfig.fromMetadata(metadata);
            config.tensorShapes();
            config.receptiveField();
            config.gridSize(224);
            config.parameterCount();
            Labels.forModel(metadata, config.numClasses());
        });
        Allowed.onlyBagNetException(() -> Preprocessing.fromMetadata(metadata));
    }

    @FuzzTest(maxDuration = "10m")
    void json(String text) {
        if (text == null) {
            return; // Jazzer offers null for object parameters; headers are never null
        }
        try {
            Json.parse(text);
        } catch (IllegalArgumentException e) {
            // a refusal, as it should be
        }
    }
}
