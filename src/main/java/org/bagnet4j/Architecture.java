package org.bagnet4j;

import java.util.Locale;
import java.util.Map;

/**
 * A network's architecture, whatever its family: what a model file's metadata describes and what its tensors
 * must match. BagNets ({@link BagNetConfig}) and the standard CNNs they are compared with ({@link ResNetConfig}).
 */
public sealed interface Architecture permits BagNetConfig, ResNetConfig, VggConfig, DenseNetConfig {
    /** Metadata key of the family; files without it are BagNets (converted before other families existed). */
    String FAMILY_KEY = "bagnet4j.family";

    /** A preset name (e.g. bagnet33, resnet50) or "custom". */
    String name();

    /** "bagnet", "resnet", ... */
    String family();

    int inChannels();

    int numClasses();

    /**
     * Every parameter tensor the model file must hold, in PyTorch's state_dict names and shapes, in the model's
     * order (batchnorm running statistics included, num_batches_tracked not).
     */
    Map<String, int[]> tensorShapes();

    /** The architecture as safetensors {@code __metadata__} entries. */
    Map<String, String> toMetadata();

    /** Number of parameters (batchnorm running statistics excluded, as PyTorch counts buffers apart). */
    default long parameterCount() {
        long count = 0;
        for (Map.Entry<String, int[]> e : tensorShapes().entrySet()) {
            if (e.getKey().endsWith("running_mean") || e.getKey().endsWith("running_var")) {
                continue;
            }
            long size = 1;
            for (int d : e.getValue()) {
                size *= d;
            }
            count += size;
        }
        return count;
    }

    /** The classes, copied, after checking each is one of this model's. */
    default int[] checkClasses(int[] classes) {
        for (int c : classes) {
            if (c < 0 || c >= numClasses()) {
                throw new BagNetException("class " + c + " is outside [0, " + numClasses() + ")");
            }
        }
        return classes.clone();
    }

    /** Reads the architecture a model file's metadata describes. */
    static Architecture fromMetadata(Map<String, String> metadata) {
        String family = metadata.getOrDefault(FAMILY_KEY, BagNetConfig.FAMILY);
        return switch (family) {
            case BagNetConfig.FAMILY -> BagNetConfig.fromMetadata(metadata);
            case ResNetConfig.FAMILY -> ResNetConfig.fromMetadata(metadata);
            case VggConfig.FAMILY -> VggConfig.fromMetadata(metadata);
            case DenseNetConfig.FAMILY -> DenseNetConfig.fromMetadata(metadata);
            default -> throw new BagNetException("model family '" + family + "' is not supported (known: "
                    + String.join(", ", BagNetConfig.FAMILY, ResNetConfig.FAMILY, VggConfig.FAMILY,
                    DenseNetConfig.FAMILY) + ")");
        };
    }

    /** The preset of that name, in any family: bagnet9, resnet50, vgg16_bn, ... (see each family's PRESETS). */
    static Architecture preset(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (BagNetConfig.PRESETS.contains(lower)) {
            return BagNetConfig.preset(lower);
        }
        if (ResNetConfig.PRESETS.contains(lower)) {
            return ResNetConfig.preset(lower);
        }
        if (VggConfig.PRESETS.contains(lower)) {
            return VggConfig.preset(lower);
        }
        if (DenseNetConfig.PRESETS.contains(lower)) {
            return DenseNetConfig.preset(lower);
        }
        throw new BagNetException("unknown preset '" + name + "' (known: " + String.join(", ", BagNetConfig.PRESETS)
                + ", " + String.join(", ", ResNetConfig.PRESETS) + ", " + String.join(", ", VggConfig.PRESETS) + ", "
                + String.join(", ", DenseNetConfig.PRESETS) + ")");
    }
}
