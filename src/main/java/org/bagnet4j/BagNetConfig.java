package org.bagnet4j;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The architecture of a BagNet: a ResNet-50-like stack of bottleneck blocks in which only the first
 * {@code kernel3[s]} blocks of stage s use a 3x3 convolution, all others 1x1, so that each output cell sees a
 * small image patch.
 *
 * <p>Stem: 1x1 conv inChannels -> stemChannels, 3x3 conv stemChannels -> stemChannels (valid), batchnorm, ReLU.
 * Stage s: {@code blocks[s]} bottlenecks of width {@code widths[s]} (output 4 x width), the first with stride
 * {@code strides[s]} on its kxk convolution and a strided 1x1 downsample. Head: fully connected to numClasses.
 *
 * @param name a preset name or "custom"
 */
public record BagNetConfig(String name, int inChannels, int stemChannels, List<Integer> widths,
        List<Integer> blocks, List<Integer> strides, List<Integer> kernel3, int numClasses) implements Architecture {
    /** The family's name in model metadata. */
    public static final String FAMILY = "bagnet";
    /** The ImageNet presets. */
    public static final List<String> PRESETS = List.of("bagnet9", "bagnet17", "bagnet33");
    /** Bottleneck expansion: a block's output has 4 x its width channels. */
    public static final int EXPANSION = 4;
    /** Guards against configurations (e.g. from a corrupt file) that would allocate absurd amounts. */
    private static final int MAX_CHANNELS = 1 << 16;
    private static final int MAX_CLASSES = 1 << 20;
    private static final int MAX_STAGES = 16;
    private static final int MAX_STRIDE = 16;
    private static final int MAX_BLOCKS = 1024;
    private static final int MAX_GRID_STRIDE = 4096;

    public BagNetConfig {
        widths = List.copyOf(widths);
        blocks = List.copyOf(blocks);
        strides = List.copyOf(strides);
        kernel3 = List.copyOf(kernel3);
        int stages = widths.size();
        if (stages == 0 || blocks.size() != stages || strides.size() != stages || kernel3.size() != stages) {
            throw new BagNetException("config " + name + ": widths, blocks, strides and kernel3 need one entry "
                    + "per stage (got " + widths.size() + ", " + blocks.size() + ", " + strides.size() + ", "
                    + kernel3.size() + ")");
        }
        MetadataFields.checkRange(name, "stages", stages, 1, MAX_STAGES);
        MetadataFields.checkRange(name, "in_channels", inChannels, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "stem_channels", stemChannels, 1, MAX_CHANNELS);
        MetadataFields.checkRange(name, "num_classes", numClasses, 1, MAX_CLASSES);
        for (int s = 0; s < stages; s++) {
            MetadataFields.checkRange(name, "widths[" + s + "]", widths.get(s), 1, MAX_CHANNELS / EXPANSION);
            MetadataFields.checkRange(name, "blocks[" + s + "]", blocks.get(s), 1, MAX_BLOCKS);
            MetadataFields.checkRange(name, "strides[" + s + "]", strides.get(s), 1, MAX_STRIDE);
            MetadataFields.checkRange(name, "kernel3[" + s + "]", kernel3.get(s), 0, blocks.get(s));
        }
        MetadataFields.checkRange(name, "blocks in all", blocks.stream().mapToInt(Integer::intValue).sum(), 1, MAX_BLOCKS);
        long gridStride = 1;
        for (int s = 0; s < stages && gridStride <= MAX_GRID_STRIDE; s++) {
            gridStride *= strides.get(s);
        }
        if (gridStride > MAX_GRID_STRIDE) {
            throw new BagNetException("config " + name + ": the strides multiply to more than " + MAX_GRID_STRIDE);
        }
    }

    public static BagNetConfig bagnet9() {
        return imagenet("bagnet9", List.of(1, 1, 0, 0));
    }

    public static BagNetConfig bagnet17() {
        return imagenet("bagnet17", List.of(1, 1, 1, 0));
    }

    public static BagNetConfig bagnet33() {
        return imagenet("bagnet33", List.of(1, 1, 1, 1));
    }

    private static BagNetConfig imagenet(String name, List<Integer> kernel3) {
        return new BagNetConfig(name, 3, 64, List.of(64, 128, 256, 512), List.of(3, 4, 6, 3), List.of(2, 2, 2, 1),
                kernel3, 1000);
    }

    /** The preset of that name: bagnet9, bagnet17 or bagnet33. */
    public static BagNetConfig preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bagnet9" -> bagnet9();
            case "bagnet17" -> bagnet17();
            case "bagnet33" -> bagnet33();
            default -> throw new BagNetException("unknown preset '" + name + "' (known: bagnet9, bagnet17, bagnet33)");
        };
    }

    @Override
    public String family() {
        return FAMILY;
    }

    public int stages() {
        return widths.size();
    }

    /** Kernel size of the middle convolution of block {@code block} of stage {@code stage}. */
    public int kernelSize(int stage, int block) {
        return block < kernel3.get(stage) ? 3 : 1;
    }

    /** Stride of block {@code block} of stage {@code stage}: the stage stride on its first block. */
    public int stride(int stage, int block) {
        return block == 0 ? strides.get(stage) : 1;
    }

    /** Channels entering stage {@code stage}. */
    public int stageInputChannels(int stage) {
        return stage == 0 ? stemChannels : EXPANSION * widths.get(stage - 1);
    }

    /** Channels of the final feature map (the fully connected layer's input). */
    public int featureChannels() {
        return EXPANSION * widths.getLast();
    }

    /** Side of the square image patch one output cell sees. */
    public int receptiveField() {
        int field = 3; // the stem's 1x1 then 3x3 convolution
        int jump = 1;
        for (int s = 0; s < stages(); s++) {
            for (int b = 0; b < blocks.get(s); b++) {
                field += (kernelSize(s, b) - 1) * jump;
                jump *= stride(s, b);
            }
        }
        return field;
    }

    /** Distance in input pixels between neighbouring grid cells. */
    public int gridStride() {
        int jump = 1;
        for (int stride : strides) {
            jump *= stride;
        }
        return jump;
    }

    /** Number of grid cells along an input axis of the given size, 0 if the input is smaller than a patch. */
    public int gridSize(int inputSize) {
        int size = inputSize - 2; // stem 3x3
        for (int s = 0; s < stages() && size > 0; s++) {
            for (int b = 0; b < blocks.get(s) && size > 0; b++) {
                int k = kernelSize(s, b);
                size = size < k ? 0 : (size - k) / stride(s, b) + 1;
            }
        }
        return Math.max(size, 0);
    }

    @Override
    public Map<String, int[]> tensorShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("conv1.weight", new int[] {stemChannels, inChannels, 1, 1});
        shapes.put("conv2.weight", new int[] {stemChannels, stemChannels, 3, 3});
        putBatchNorm(shapes, "bn1", stemChannels);
        for (int s = 0; s < stages(); s++) {
            int width = widths.get(s);
            int in = stageInputChannels(s);
            for (int b = 0; b < blocks.get(s); b++) {
                String p = "layer" + (s + 1) + "." + b + ".";
                int k = kernelSize(s, b);
                shapes.put(p + "conv1.weight", new int[] {width, in, 1, 1});
                putBatchNorm(shapes, p + "bn1", width);
                shapes.put(p + "conv2.weight", new int[] {width, width, k, k});
                putBatchNorm(shapes, p + "bn2", width);
                shapes.put(p + "conv3.weight", new int[] {EXPANSION * width, width, 1, 1});
                putBatchNorm(shapes, p + "bn3", EXPANSION * width);
                if (b == 0) {
                    shapes.put(p + "downsample.0.weight", new int[] {EXPANSION * width, in, 1, 1});
                    putBatchNorm(shapes, p + "downsample.1", EXPANSION * width);
                }
                in = EXPANSION * width;
            }
        }
        shapes.put("fc.weight", new int[] {numClasses, featureChannels()});
        shapes.put("fc.bias", new int[] {numClasses});
        return shapes;
    }

    private static void putBatchNorm(Map<String, int[]> shapes, String prefix, int channels) {
        for (String part : List.of("weight", "bias", "running_mean", "running_var")) {
            shapes.put(prefix + "." + part, new int[] {channels});
        }
    }

    /** The config as safetensors {@code __metadata__} entries (string values); no family key, as ever. */
    @Override
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bagnet4j.arch", name);
        m.put("bagnet4j.in_channels", Integer.toString(inChannels));
        m.put("bagnet4j.stem_channels", Integer.toString(stemChannels));
        m.put("bagnet4j.widths", MetadataFields.join(widths));
        m.put("bagnet4j.blocks", MetadataFields.join(blocks));
        m.put("bagnet4j.strides", MetadataFields.join(strides));
        m.put("bagnet4j.kernel3", MetadataFields.join(kernel3));
        m.put("bagnet4j.num_classes", Integer.toString(numClasses));
        return m;
    }

    /** Reads a config written by {@link #toMetadata} (or by weights-converter/convert.py). */
    public static BagNetConfig fromMetadata(Map<String, String> metadata) {
        if (!metadata.containsKey("bagnet4j.widths")) {
            throw new BagNetException("model file has no bagnet4j architecture metadata "
                    + "(convert checkpoints with weights-converter/convert.py)");
        }
        return new BagNetConfig(metadata.getOrDefault("bagnet4j.arch", "custom"),
                MetadataFields.intField(metadata, "bagnet4j.in_channels"), MetadataFields.intField(metadata, "bagnet4j.stem_channels"),
                MetadataFields.listField(metadata, "bagnet4j.widths"), MetadataFields.listField(metadata, "bagnet4j.blocks"),
                MetadataFields.listField(metadata, "bagnet4j.strides"), MetadataFields.listField(metadata, "bagnet4j.kernel3"),
                MetadataFields.intField(metadata, "bagnet4j.num_classes"));
    }

}
