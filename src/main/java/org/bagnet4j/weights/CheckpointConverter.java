package org.bagnet4j.weights;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.BagNetException;
import org.bagnet4j.DenseNetConfig;
import org.bagnet4j.Labels;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.ResNetConfig;
import org.bagnet4j.VggConfig;

/**
 * A PyTorch checkpoint as a bagnet4j model file: what weights-converter/convert.py writes, the same tensors,
 * values and metadata. The architecture is the one whose tensors match the checkpoint's names and shapes: a
 * BagNet read off its shapes (stage strides 2,2,2,1), or a torchvision ResNet, VGG or DenseNet with the
 * checkpoint's input channels and classes.
 */
public final class CheckpointConverter {
    private static final Pattern BLOCK = Pattern.compile("layer([1-9][0-9]{0,3})\\.(0|[1-9][0-9]{0,3})\\..+");
    /** torchvision renames these old DenseNet names on load (denselayer1.norm.1.weight -> norm1.weight). */
    private static final Pattern OLD_DENSE_LAYER = Pattern.compile(
            "^(.*denselayer\\d+\\.(?:norm|relu|conv))\\.([12]\\.(?:weight|bias|running_mean|running_var))$");
    private static final List<Integer> BAGNET_STRIDES = List.of(2, 2, 2, 1);

    /**
     * A checkpoint as a model file: its architecture, the metadata convert.py writes, and each tensor's values,
     * read from the checkpoint when asked. Close it when done.
     */
    public static final class Converted implements AutoCloseable {
        private final TorchCheckpoint checkpoint;
        private final Map<String, String> originalNames;
        private final Architecture architecture;
        private final Map<String, String> metadata;

        private Converted(TorchCheckpoint checkpoint, Map<String, String> originalNames, Architecture architecture,
                Map<String, String> metadata) {
            this.checkpoint = checkpoint;
            this.originalNames = originalNames;
            this.architecture = architecture;
            this.metadata = metadata;
        }

        public Architecture architecture() {
            return architecture;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        /** "PyTorch checkpoint (zip format), float16 weights read as float32", for info. */
        public String format() {
            Map<String, TorchCheckpoint.Entry> entries = checkpoint.entries();
            Set<String> dtypes = new TreeSet<>();
            architecture.tensorShapes().keySet().forEach(n -> dtypes.add(entries.get(originalNames.get(n)).dtype()));
            String kinds = String.join(" and ", dtypes);
            return "PyTorch checkpoint (" + checkpoint.format() + " format), " + kinds
                    + (kinds.equals("float32") ? "" : " weights read as float32");
        }

        /** A tensor of {@link Architecture#tensorShapes()}, as float32 values, checked to be finite. */
        public float[] values(String name) {
            float[] values = checkpoint.values(originalNames.get(name));
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    throw new BagNetException(checkpoint.name() + ": tensor '" + name + "' has non-finite values");
                }
            }
            return values;
        }

        @Override
        public void close() {
            checkpoint.close();
        }
    }

    private CheckpointConverter() {
    }

    /**
     * Opens a checkpoint as a model file: its tensors' names and shapes are matched to an architecture now, their
     * values read when asked.
     *
     * @param arch a preset name to require (bagnet33, resnet50, ...), or null to recognize the architecture
     * @param labels class names in class-index order, or null (ImageNet's for 1000 classes, else "class N")
     */
    public static Converted convert(Path file, String arch, List<String> labels) {
        TorchCheckpoint checkpoint = TorchCheckpoint.open(file);
        try {
            return convert(checkpoint, arch, labels);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    private static Converted convert(TorchCheckpoint checkpoint, String arch, List<String> labels) {
        String where = checkpoint.name() + ": ";
        Map<String, String> originalNames = new LinkedHashMap<>();
        Map<String, TorchCheckpoint.Entry> tensors = renamed(checkpoint.entries(), originalNames);
        Architecture architecture;
        try {
            architecture = arch != null ? matching(List.of(adapted(Architecture.preset(arch), tensors)), tensors)
                    : matching(candidates(tensors), tensors);
        } catch (BagNetException e) {
            throw new BagNetException(where + e.getMessage());
        }
        for (String name : architecture.tensorShapes().keySet()) {
            String dtype = tensors.get(name).dtype();
            if (!dtype.startsWith("float") && !dtype.equals("bfloat16")) {
                throw new BagNetException(where + "tensor '" + name + "' has dtype " + dtype + ", not floating point");
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>(architecture.toMetadata());
        if (architecture.inChannels() == 3 && architecture.numClasses() == 1000) {
            metadata.putAll(Preprocessing.imagenet().toMetadata());
        }
        if (labels != null) {
            if (labels.size() != architecture.numClasses()) {
                throw new BagNetException(where + "the labels name " + labels.size() + " classes, the model has "
                        + architecture.numClasses());
            }
            metadata.put(Labels.METADATA_KEY, String.join("\n", labels));
        }
        return new Converted(checkpoint, originalNames, architecture, metadata);
    }

    /** Names as torchvision loads them, old DenseNet names renamed; {@code original} maps them back to the file's. */
    private static Map<String, TorchCheckpoint.Entry> renamed(Map<String, TorchCheckpoint.Entry> tensors,
            Map<String, String> original) {
        Map<String, TorchCheckpoint.Entry> out = new LinkedHashMap<>();
        for (Map.Entry<String, TorchCheckpoint.Entry> e : tensors.entrySet()) {
            Matcher m = OLD_DENSE_LAYER.matcher(e.getKey());
            String name = m.matches() ? m.group(1) + m.group(2) : e.getKey();
            if (out.put(name, e.getValue()) != null) {
                throw new BagNetException("tensor '" + name + "' is in the checkpoint under its old and its new name");
            }
            original.put(name, e.getKey());
        }
        return out;
    }

    /** Every architecture the checkpoint could be: its BagNet reading, and each torchvision preset adapted. */
    private static List<Architecture> candidates(Map<String, TorchCheckpoint.Entry> tensors) {
        List<Architecture> all = new ArrayList<>();
        if (tensors.containsKey("conv2.weight")) {
            all.add(bagNet(tensors)); // only a BagNet's stem has a second convolution: its problems are the news
        }
        for (List<String> presets : List.of(ResNetConfig.PRESETS, VggConfig.PRESETS, DenseNetConfig.PRESETS)) {
            for (String preset : presets) {
                try {
                    all.add(adapted(Architecture.preset(preset), tensors));
                } catch (BagNetException e) {
                    // channels or classes beyond the family's limits: not this preset
                }
            }
        }
        return all;
    }

    /** The first candidate whose tensors are exactly the checkpoint's (num_batches_tracked aside). */
    private static Architecture matching(List<Architecture> candidates, Map<String, TorchCheckpoint.Entry> tensors) {
        Map<String, int[]> held = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (!name.endsWith("num_batches_tracked")) {
                held.put(name, t.shape());
            }
        });
        String closest = null;
        for (Architecture a : candidates) {
            String difference = difference(a.tensorShapes(), held);
            if (difference == null) {
                return a;
            }
            closest = closest == null ? a.name() + ": " + difference : closest;
        }
        throw new BagNetException("no supported architecture has these tensors (" + held.size() + " tensors; "
                + (candidates.size() == 1 ? closest : "BagNets, ResNets, VGGs and DenseNets are supported") + ")");
    }

    /** Why a checkpoint's tensors are not an architecture's, or null when they are. */
    private static String difference(Map<String, int[]> expected, Map<String, int[]> held) {
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            int[] shape = held.get(e.getKey());
            if (shape == null) {
                return "no tensor '" + e.getKey() + "'";
            }
            if (!Arrays.equals(shape, e.getValue())) {
                return "tensor '" + e.getKey() + "' has shape " + Arrays.toString(shape) + ", expected "
                        + Arrays.toString(e.getValue());
            }
        }
        for (String name : held.keySet()) {
            if (!expected.containsKey(name)) {
                return "unexpected tensor '" + name + "'";
            }
        }
        return null;
    }

    /** A preset with the checkpoint's input channels and classes (a fine-tuned model keeps the rest). */
    private static Architecture adapted(Architecture preset, Map<String, TorchCheckpoint.Entry> tensors) {
        int in = firstConvolution(tensors);
        int classes = classes(tensors);
        if (in < 1 || classes < 1) {
            return preset;
        }
        return switch (preset) {
            case BagNetConfig b -> new BagNetConfig(b.name(), in, b.stemChannels(), b.widths(), b.blocks(), b.strides(),
                    b.kernel3(), classes);
            case ResNetConfig r -> new ResNetConfig(r.name(), in, r.bottleneck(), r.blocks(), r.widthPerGroup(),
                    stemChannels(tensors, r.baseWidth()), classes);
            case VggConfig v -> new VggConfig(v.name(), in, v.layers(), v.batchNorm(), v.hidden(), classes);
            case DenseNetConfig d -> new DenseNetConfig(d.name(), in, d.growthRate(), d.blockConfig(),
                    d.initFeatures(), d.bnSize(), classes);
        };
    }

    /** Input channels: axis 1 of the first 4-d weight, or 0 without one. */
    private static int firstConvolution(Map<String, TorchCheckpoint.Entry> tensors) {
        for (Map.Entry<String, TorchCheckpoint.Entry> e : tensors.entrySet()) {
            if (e.getKey().endsWith("weight") && e.getValue().shape().length == 4) {
                return e.getValue().shape()[1];
            }
        }
        return 0;
    }

    /** A ResNet's base width: conv1's output channels, or the preset's without a 4-d conv1. */
    private static int stemChannels(Map<String, TorchCheckpoint.Entry> tensors, int preset) {
        TorchCheckpoint.Entry conv1 = tensors.get("conv1.weight");
        return conv1 != null && conv1.shape().length == 4 ? conv1.shape()[0] : preset;
    }

    /** Classes: axis 0 of the last 2-d weight, or 0 without one. */
    private static int classes(Map<String, TorchCheckpoint.Entry> tensors) {
        int classes = 0;
        for (Map.Entry<String, TorchCheckpoint.Entry> e : tensors.entrySet()) {
            if (e.getKey().endsWith("weight") && e.getValue().shape().length == 2) {
                classes = e.getValue().shape()[0];
            }
        }
        return classes;
    }

    /** A BagNet read off its tensors' shapes: stem, stage widths and block counts, 3x3 blocks, classes. */
    private static BagNetConfig bagNet(Map<String, TorchCheckpoint.Entry> tensors) {
        int[] stem = shape(tensors, "conv1.weight", 4);
        int classes = shape(tensors, "fc.weight", 2)[0];
        TreeMap<Integer, TreeSet<Integer>> blocksOf = new TreeMap<>();
        for (String name : tensors.keySet()) {
            Matcher m = BLOCK.matcher(name);
            if (m.matches()) {
                blocksOf.computeIfAbsent(Integer.parseInt(m.group(1)), s -> new TreeSet<>())
                        .add(Integer.parseInt(m.group(2)));
            }
        }
        int stages = blocksOf.size();
        if (stages != BAGNET_STRIDES.size() || blocksOf.lastKey() != stages) {
            throw new BagNetException("a BagNet of " + stages + " stages: bagnet4j convert knows the 4-stage "
                    + "layout (strides 2,2,2,1); convert others with weights-converter/convert.py --strides");
        }
        List<Integer> widths = new ArrayList<>();
        List<Integer> blocks = new ArrayList<>();
        List<Integer> kernel3 = new ArrayList<>();
        for (int s = 1; s <= stages; s++) {
            TreeSet<Integer> indices = blocksOf.get(s);
            if (indices.last() != indices.size() - 1) {
                throw new BagNetException("blocks of layer" + s + " are not numbered 0..N without gaps");
            }
            blocks.add(indices.size());
            widths.add(shape(tensors, "layer" + s + ".0.conv1.weight", 4)[0]);
            int k3 = 0;
            while (k3 < indices.size() && shape(tensors, "layer" + s + "." + k3 + ".conv2.weight", 4)[3] == 3) {
                k3++;
            }
            kernel3.add(k3);
        }
        BagNetConfig custom = new BagNetConfig("custom", stem[1], stem[0], widths, blocks, BAGNET_STRIDES, kernel3,
                classes);
        for (String preset : BagNetConfig.PRESETS) {
            BagNetConfig p = BagNetConfig.preset(preset);
            if (p.equals(new BagNetConfig(preset, custom.inChannels(), custom.stemChannels(), widths, blocks,
                    BAGNET_STRIDES, kernel3, classes))) {
                return p;
            }
        }
        return custom;
    }

    private static int[] shape(Map<String, TorchCheckpoint.Entry> tensors, String name, int dims) {
        TorchCheckpoint.Entry t = tensors.get(name);
        if (t == null) {
            throw new BagNetException("no tensor '" + name + "'");
        }
        if (t.shape().length != dims) {
            throw new BagNetException("tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + ", a BagNet "
                    + "needs " + dims + " dimensions");
        }
        return t.shape();
    }

    /** Class names from a UTF-8 text file, one per line, blank lines skipped (for --labels). */
    public static List<String> labels(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
        } catch (MalformedInputException e) {
            throw new BagNetException("labels " + file + " are not UTF-8 text");
        } catch (IOException e) {
            throw new BagNetException("cannot read labels " + file + ": " + BagNetException.reason(e));
        }
    }
}
