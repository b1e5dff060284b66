package org.bagnet4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.kernels.VectorSupport;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.ConvNet;
import org.bagnet4j.model.DenseNetLayout;
import org.bagnet4j.model.ResNetLayout;
import org.bagnet4j.model.VggLayout;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.bagnet4j.weights.ModelFile;

/**
 * A loaded model of any family: a {@link BagNet}, or a standard {@link Cnn} (ResNet, VGG, DenseNet). Every model has class scores,
 * classification of images and files, preprocessing, labels and metadata; it is immutable and safe to share
 * between threads, each calling thread reusing its own activation buffers.
 *
 * <pre>{@code
 * Model model = Model.load(Path.of("resnet50.safetensors"));   // or a BagNet's file
 * List<Prediction> top5 = model.classify(Path.of("cat.jpg"));
 * float[][] scores = model.classScores(images);                // images: NHWC, normalized
 * }</pre>
 */
public abstract sealed class Model permits BagNet, Cnn {
    /** Share of the free heap a call's activations may take. */
    private static final double HEAP_SHARE = 0.25;
    private final Map<String, String> metadata;
    final Workers workers;
    /** Each calling thread's activation buffers, reused from call to call. */
    final ThreadLocal<Workspace> workspace = ThreadLocal.withInitial(Workspace::new);
    /** Calls running now, which share the heap budget. */
    private final AtomicInteger running = new AtomicInteger();
    private final Labels labels;
    private final Preprocessing preprocessing;
    private final List<String> warnings;

    Model(Architecture architecture, Map<String, String> metadata, Workers workers) {
        this.metadata = Map.copyOf(metadata);
        this.workers = workers;
        this.labels = Labels.forModel(metadata, architecture.numClasses());
        int channels = architecture.inChannels();
        Preprocessing described = Preprocessing.fromMetadata(metadata);
        if (described == null && channels == 3) {
            described = Preprocessing.imagenet();
            this.warnings = List.of("the model file does not say how to preprocess images; using ImageNet's "
                    + "(Resize 256, CenterCrop 224, ImageNet mean and std)");
        } else if (described == null) {
            this.warnings = List.of("the model file does not say how to preprocess images; it can only run tensors");
        } else if (described.channels() != channels) {
            throw new BagNetException("model metadata normalizes " + described.channels() + " channels but "
                    + architecture.name() + " takes " + channels);
        } else {
            this.warnings = List.of();
        }
        this.preprocessing = described;
    }

    /**
     * Loads a model of any family, a safetensors model file (bagnet4j convert, weights-converter/convert.py) or a
     * PyTorch checkpoint (recognized by content; read without running anything in it), using every core.
     */
    public static Model load(Path path) {
        return load(path, Runtime.getRuntime().availableProcessors());
    }

    /** Loads a model file of any family, using {@code threads} threads per call. */
    public static Model load(Path path, int threads) {
        VectorSupport.require();
        Workers workers = new Workers(threads);
        try (ModelFile file = ModelFile.open(path)) {
            return of(file.architecture(), file::tensor, file.metadata(), workers);
        }
    }

    /**
     * The models shipped in the jar, all trained on Fashion-MNIST by weights-converter/fashion/train.py with one
     * preprocessing (34x34 grayscale input): the BagNets of receptive field q = 13 ({@link BagNet#embedded()}), 5, 9
     * and 33, and two standard CNNs, a small ResNet and a small VGG.
     */
    public static final List<String> EMBEDDED = List.of(BagNet.EMBEDDED_NAME, "fashion-mnist-bagnet-q5.safetensors",
            "fashion-mnist-bagnet-q9.safetensors", "fashion-mnist-bagnet-q33.safetensors",
            "fashion-mnist-resnet.safetensors", "fashion-mnist-vgg.safetensors");

    /** One of the {@link #EMBEDDED} models, using {@code threads} threads per call. */
    public static Model embedded(String name, int threads) {
        if (!EMBEDDED.contains(name)) {
            throw new BagNetException("no embedded model " + name + " (embedded: " + String.join(", ", EMBEDDED) + ")");
        }
        VectorSupport.require();
        byte[] bytes;
        try (InputStream in = Model.class.getResourceAsStream("models/" + name)) {
            if (in == null) {
                throw new BagNetException("the embedded model " + name + " is missing from the bagnet4j jar");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new BagNetException("cannot read the embedded model " + name + ": " + BagNetException.reason(e));
        }
        try (ModelFile file = ModelFile.of(bytes, name)) {
            return of(file.architecture(), file::tensor, file.metadata(), new Workers(threads));
        }
    }

    static Model of(Architecture architecture, Function<String, float[]> parameters, Map<String, String> metadata,
            Workers workers) {
        return switch (architecture) {
            case BagNetConfig c -> new BagNet(c, parameters, metadata, workers);
            case ResNetConfig c -> new Cnn(c, ConvNet.resnet(ResNetLayout.of(c), parameters), metadata, workers);
            case VggConfig c -> new Cnn(c, ConvNet.vgg(VggLayout.of(c), parameters), metadata, workers);
            case DenseNetConfig c -> new Cnn(c, ConvNet.densenet(DenseNetLayout.of(c), parameters), metadata, workers);
        };
    }

    /**
     * Builds a model from state_dict tensors supplied by name (C order, PyTorch shapes as listed by
     * {@link Architecture#tensorShapes()}).
     */
    public static Model fromParameters(Architecture architecture, Function<String, float[]> parameters,
            int threads) {
        VectorSupport.require();
        Map<String, int[]> shapes = architecture.tensorShapes();
        Function<String, float[]> checked = name -> {
            float[] values = parameters.apply(name);
            long expected = 1;
            for (int d : shapes.get(name)) {
                expected *= d;
            }
            if (values == null || values.length != expected) {
                throw new BagNetException("parameter '" + name + "' needs " + expected + " values, got "
                        + (values == null ? "none" : values.length));
            }
            return values;
        };
        Map<String, String> metadata = new LinkedHashMap<>(architecture.toMetadata());
        if (architecture.inChannels() == 3) {
            metadata.putAll(Preprocessing.imagenet().toMetadata());
        }
        return of(architecture, checked, metadata, new Workers(threads));
    }

    /**
     * A model with seeded random weights (He-initialized convolutions, batchnorm near identity): for benchmarks
     * and tests, where the cost matters and the answers do not.
     */
    public static Model withRandomWeights(Architecture architecture, long seed, int threads) {
        return fromParameters(architecture, randomParameters(architecture, seed), threads);
    }

    /**
     * The seeded random weights of {@link #withRandomWeights}, tensor by tensor (asked in the architecture's
     * order, they are the same values), e.g. to write a model file for a benchmark.
     */
    public static Function<String, float[]> randomParameters(Architecture architecture, long seed) {
        Random random = new Random(seed);
        Map<String, int[]> shapes = architecture.tensorShapes();
        return name -> {
            int[] shape = shapes.get(name);
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            double std = shape.length > 1 ? Math.sqrt(2.0 / (n / shape[0])) : 0.1;
            for (int i = 0; i < n; i++) {
                if (name.endsWith("running_var")) {
                    v[i] = 1f;
                } else if (shape.length == 1 && name.endsWith(".weight")) {
                    v[i] = 0.5f + 0.5f * random.nextFloat();
                } else {
                    v[i] = (float) (random.nextGaussian() * std);
                }
            }
            return v;
        };
    }

    /** The architecture: family, name, sizes. */
    public abstract Architecture architecture();

    /** Image-level class scores (logits), [N][classes]. */
    public abstract float[][] classScores(Tensor images);

    /** Multiply-accumulates of one image's class scores at this input size, as bagnet4j computes them. */
    public abstract long macs(int height, int width);

    /**
     * Heap a whole-image call on a batch of this size keeps for its activations (reused from call to call), or
     * Long.MAX_VALUE when one of them would exceed a Java array.
     */
    public abstract long activationBytes(int batch, int height, int width);

    /** The smallest input side the model takes (a BagNet's receptive field). */
    public abstract int minInputSize();

    /** The model file's metadata. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Problems found at load time that did not stop it (e.g. preprocessing missing from the metadata). */
    public List<String> warnings() {
        return warnings;
    }

    /** Class names, in class-index order. */
    public Labels labels() {
        return labels;
    }

    /** A class by name (exact, then case-insensitive) or index; an unknown one is refused with the closest names. */
    public int classIndex(String nameOrIndex) {
        int index = labels.indexOf(nameOrIndex);
        if (index >= 0) {
            return index;
        }
        int last = architecture().numClasses() - 1;
        if (nameOrIndex.strip().matches("-?\\d+")) {
            throw new BagNetException("class index " + nameOrIndex.strip() + " is outside 0-" + last);
        }
        throw new BagNetException("unknown class '" + nameOrIndex + "'; closest names: "
                + String.join(", ", labels.closest(nameOrIndex, 3)) + " (or an index 0-" + last + ")");
    }

    /**
     * How {@link #classify} and {@link #preprocess} turn an image into input, as the model file's metadata says
     * (ImageNet evaluation, with a warning, when it says nothing; null for a model that is not RGB and says
     * nothing).
     */
    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** Decodes an image file (JPEG, PNG, BMP, GIF; EXIF orientation applied) and preprocesses it: [1, h, w, c]. */
    public Tensor preprocess(Path image) {
        return requirePreprocessing().apply(ImageDecoder.read(image));
    }

    /** Preprocesses an image (alpha dropped, as PIL's convert("RGB") does): [1, h, w, c]. */
    public Tensor preprocess(BufferedImage image) {
        return requirePreprocessing().apply(RgbImage.from(image));
    }

    Preprocessing requirePreprocessing() {
        if (preprocessing == null) {
            throw new BagNetException(architecture().name() + " has no image preprocessing in its model file; "
                    + "it runs tensors only");
        }
        return preprocessing;
    }

    /** The five most likely classes of an image file, best first. */
    public List<Prediction> classify(Path image) {
        return classify(image, 5);
    }

    /** The {@code topK} most likely classes of an image file, best first. */
    public List<Prediction> classify(Path image, int topK) {
        return Prediction.top(classScores(preprocess(image))[0], labels, topK);
    }

    /** The five most likely classes of an image, best first. */
    public List<Prediction> classify(BufferedImage image) {
        return classify(image, 5);
    }

    /** The {@code topK} most likely classes of an image, best first. */
    public List<Prediction> classify(BufferedImage image, int topK) {
        return Prediction.top(classScores(preprocess(image))[0], labels, topK);
    }

    /**
     * Whether a batch of this size runs whole: its activations fit in a quarter of the free heap. A BagNet streams
     * larger inputs tile by tile; other models refuse them.
     */
    public boolean runsWhole(int batch, int height, int width) {
        return activationBytes(batch, height, width) <= heapBudget(running.get() + 1);
    }

    /**
     * The maximum heap (-Xmx) with which a call of this size would run whole, with as much of the heap in use
     * besides as now: a tiled pass is slower the smaller its tiles, so this is the heap that makes it fast.
     */
    public long heapToRunWhole(int batch, int height, int width) {
        Runtime rt = Runtime.getRuntime();
        long used = rt.totalMemory() - rt.freeMemory() - workspace.get().retainedBytes();
        double needed = Math.max(0, used) + activationBytes(batch, height, width) / HEAP_SHARE;
        return needed >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) Math.ceil(needed);
    }

    /**
     * The heap a call may fill with activations: a quarter of the heap not in use (counting the calling thread's
     * own buffers, which a call of the same size reuses), shared evenly by the calls running at once.
     */
    long heapBudget(int calls) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()) + workspace.get().retainedBytes();
        return (long) (free * HEAP_SHARE) / Math.max(1, calls);
    }

    /** Calls running now. */
    int running() {
        return running.get();
    }

    /** Runs a call that fills activation buffers, counted among those sharing the heap. */
    <T> T counted(Supplier<T> call) {
        running.incrementAndGet();
        try {
            return call.get();
        } finally {
            running.decrementAndGet();
        }
    }

    /** Frees the calling thread's activation buffers (kept from call to call for speed). */
    public void releaseBuffers() {
        workspace.remove();
    }

    /** Scores [N, 1, 1, classes] (or any [N, ..., classes] rows) as one float[classes] per image. */
    static float[][] rows(Tensor scores) {
        requireFinite(scores.data());
        int classes = scores.channels();
        float[][] out = new float[scores.batch()][classes];
        for (int n = 0; n < out.length; n++) {
            System.arraycopy(scores.data(), n * classes, out[n], 0, classes);
        }
        return out;
    }

    /**
     * Refuses outputs that overflowed: finite inputs and weights (both checked) can still overflow float32 when the
     * weights are absurdly large, and a NaN must never pass for a score.
     */
    static Tensor requireFinite(Tensor values) {
        requireFinite(values.data());
        return values;
    }

    static void requireFinite(float[] outputs) {
        requireFinite(outputs, "the model's outputs overflow float32 on this input (%s): its weights are too large");
    }

    static void requireFinite(float[] values, String problem) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                throw new BagNetException(String.format(Locale.ROOT, problem, v));
            }
        }
    }

    /** Checks an input batch: finite values and the model's channels; its size is each family's to check. */
    void checkValuesAndChannels(Tensor images) {
        requireFinite(images.data(), "the input holds %s; inputs must be finite");
        Architecture a = architecture();
        if (images.channels() != a.inChannels()) {
            throw new BagNetException(a.name() + " expects " + a.inChannels() + " input channels, got "
                    + images.channels());
        }
    }

    /** The classes, checked, for a call that needs some. */
    int[] checkClasses(int[] classes) {
        if (classes.length == 0) {
            throw new BagNetException("no classes given");
        }
        return architecture().checkClasses(classes);
    }
}
