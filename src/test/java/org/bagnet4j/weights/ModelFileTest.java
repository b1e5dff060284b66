package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.BagNetException;
import org.bagnet4j.ResNetConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class ModelFileTest {
    static final BagNetConfig SMALL = new BagNetConfig("small", 1, 4, List.of(2, 4), List.of(1, 2), List.of(2, 1),
            List.of(1, 1), 3);

    @TempDir
    Path dir;

    /** Every tensor of a config: batchnorm variances 1, everything else 0.1. */
    public static Map<String, SafetensorsWriter.Tensor> tensorsOf(Architecture config) {
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        config.tensorShapes().forEach((name, shape) -> {
            int size = 1;
            for (int d : shape) {
                size *= d;
            }
            float[] values = new float[size];
            java.util.Arrays.fill(values, name.endsWith("running_var") ? 1f : 0.1f);
            tensors.put(name, new SafetensorsWriter.Tensor(shape, values));
        });
        return tensors;
    }

    private Path write(Map<String, String> metadata, Map<String, SafetensorsWriter.Tensor> tensors) {
        Path file = dir.resolve("m.safetensors");
        SafetensorsWriter.write(file, metadata, tensors);
        return file;
    }

    @Test
    void opensAConsistentFile() {
        try (ModelFile f = ModelFile.open(write(SMALL.toMetadata(), tensorsOf(SMALL)))) {
            assertThat(f.architecture()).isEqualTo(SMALL);
            assertThat(f.tensor("fc.bias")).hasSize(3);
        }
    }

    @Test
    void namesTheTensorThatDoesNotFit() {
        var missing = tensorsOf(SMALL);
        missing.remove("layer2.1.bn2.running_var");
        assertThatThrownBy(() -> ModelFile.open(write(SMALL.toMetadata(), missing)))
                .isInstanceOf(BagNetException.class).hasMessageContaining("missing tensor 'layer2.1.bn2.running_var'");

        var extra = tensorsOf(SMALL);
        extra.put("layer2.1.bn2.num_batches_tracked", new SafetensorsWriter.Tensor(new int[] {1}, new float[1]));
        assertThatThrownBy(() -> ModelFile.open(write(SMALL.toMetadata(), extra)))
                .hasMessageContaining("unexpected tensor 'layer2.1.bn2.num_batches_tracked'");

        var wrong = tensorsOf(SMALL);
        wrong.put("layer1.0.conv2.weight", new SafetensorsWriter.Tensor(new int[] {2, 2, 1, 1}, new float[4]));
        assertThatThrownBy(() -> ModelFile.open(write(SMALL.toMetadata(), wrong)))
                .hasMessageContaining("tensor 'layer1.0.conv2.weight' has shape [2, 2, 1, 1], its small config needs "
                        + "[2, 2, 3, 3]");
    }

    @Test
    void rejectsMissingOrMismatchedConfig() {
        assertThatThrownBy(() -> ModelFile.open(write(Map.of(), tensorsOf(SMALL))))
                .hasMessageContaining("no bagnet4j architecture metadata");
        Map<String, String> meta = new LinkedHashMap<>(SMALL.toMetadata());
        meta.put("bagnet4j.num_classes", "5");
        assertThatThrownBy(() -> ModelFile.open(write(meta, tensorsOf(SMALL))))
                .hasMessageContaining("tensor 'fc.weight' has shape [3, 16]");
        meta.put("bagnet4j.num_classes", "many");
        assertThatThrownBy(() -> ModelFile.open(write(meta, tensorsOf(SMALL))))
                .hasMessageContaining("bagnet4j.num_classes = 'many' is not an integer");
        meta.put("bagnet4j.num_classes", "3");
        meta.put("bagnet4j.widths", "2000000000,4");
        assertThatThrownBy(() -> ModelFile.open(write(meta, tensorsOf(SMALL))))
                .hasMessageContaining("config small: widths[0] = 2000000000 is outside");
        meta.put("bagnet4j.widths", "16385,4"); // README: at most 65,536 channels, 4 x 16,384
        assertThatThrownBy(() -> ModelFile.open(write(meta, tensorsOf(SMALL))))
                .hasMessageContaining("config small: widths[0] = 16385 is outside [1, 16384]");
        meta.put("bagnet4j.widths", "2,4");
        meta.put("bagnet4j.num_classes", "1048577"); // README: at most 2^20 classes
        assertThatThrownBy(() -> ModelFile.open(write(meta, tensorsOf(SMALL))))
                .hasMessageContaining("config small: num_classes = 1048577 is outside [1, 1048576]");
        meta.put("bagnet4j.num_classes", "3");
        meta.put("bagnet4j.blocks", "1000,1000");
        assertThatThrownBy(() -> ModelFile.open(write(meta, tensorsOf(SMALL))))
                .hasMessageContaining("config small: blocks in all = 2000 is outside [1, 1024]");
        Map<String, String> deep = new LinkedHashMap<>(SMALL.toMetadata());
        for (String key : List.of("widths", "blocks", "strides", "kernel3")) {
            deep.put("bagnet4j." + key, String.join(",", java.util.Collections.nCopies(17, "1")));
        }
        assertThatThrownBy(() -> ModelFile.open(write(deep, tensorsOf(SMALL))))
                .hasMessageContaining("stages = 17 is outside [1, 16]");
        deep.replaceAll((k, v) -> k.startsWith("bagnet4j.") && v.contains(",") ? "1,1,1,1" : v);
        deep.put("bagnet4j.strides", "16,16,16,2");
        assertThatThrownBy(() -> ModelFile.open(write(deep, tensorsOf(SMALL))))
                .hasMessageContaining("the strides multiply to more than 4096");
    }

    /** A narrow ResNet's base width is part of its metadata; files written before the field existed mean 64. */
    @Test
    void readsAResNetsBaseWidth() {
        ResNetConfig narrow = new ResNetConfig("fashion-resnet", 1, false, List.of(1, 1, 1, 1), 64, 12, 10);
        // torchvision's shapes for this ResNet (weights-converter/fashion/train.py builds it from its classes)
        assertThat(narrow.tensorShapes().get("conv1.weight")).containsExactly(12, 1, 7, 7);
        assertThat(narrow.tensorShapes().get("layer4.0.downsample.0.weight")).containsExactly(96, 48, 1, 1);
        assertThat(narrow.tensorShapes().get("fc.weight")).containsExactly(10, 96);
        assertThat(narrow.parameterCount()).isEqualTo(174_574);
        try (ModelFile f = ModelFile.open(write(narrow.toMetadata(), tensorsOf(narrow)))) {
            assertThat(f.architecture()).isEqualTo(narrow);
        }

        Map<String, String> old = new LinkedHashMap<>(ResNetConfig.preset("resnet18").toMetadata());
        assertThat(old.remove("bagnet4j.base_width")).isEqualTo("64");
        assertThat(Architecture.fromMetadata(old)).isEqualTo(ResNetConfig.preset("resnet18"));
        Map<String, String> wide = new LinkedHashMap<>(narrow.toMetadata());
        wide.put("bagnet4j.base_width", "8193"); // layer4's 8 x 8193 planes would pass 65,536 channels
        assertThatThrownBy(() -> Architecture.fromMetadata(wide))
                .hasMessage("config fashion-resnet: base_width = 8193 is outside [1, 8192]");
    }
}
