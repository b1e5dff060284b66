package org.bagnet4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.ImageSource;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.kernels.VectorSupport;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.Network;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;
import org.bagnet4j.weights.ModelFile;

/**
 * A loaded BagNet. Immutable and safe to share between threads.
 *
 * <pre>{@code
 * BagNet model = BagNet.load(Path.of("bagnet33.safetensors"));
 * List<Prediction> top5 = model.classify(Path.of("cat.jpg"));
 * float[][] scores = model.classScores(images);   // images: NHWC, normalized
 * Tensor grid = model.patchLogits(images);         // [N, gh, gw, classes]
 * }</pre>
 */
public final class BagNet {
    private final Network network;
    private final Map<String, String> metadata;
    private final Workers workers;
    /** Each calling thread's activation buffers, reused from call to call. */
    private final ThreadLocal<Workspace> workspace = ThreadLocal.withInitial(Workspace::new);
    /** Calls running now, which share the heap budget. */
    private final AtomicInteger running = new AtomicInteger();
    /** Share of the free heap a call's activations may take; larger inputs are streamed. */
    private static final double HEAP_SHARE = 0.25;
    private final Labels labels;
    private final Preprocessing preprocessing;
    private final List<String> warnings;

    private BagNet(Network network, Map<String, String> metadata, Workers workers) {
        this.network = network;
        this.metadata = Map.copyOf(metadata);
        this.workers = workers;
        this.labels = Labels.forModel(metadata, network.config().numClasses());
        int channels = network.config().inChannels();
        Preprocessing described = Preprocessing.fromMetadata(metadata);
        if (described == null && channels == 3) {
            described = Preprocessing.imagenet();
            this.warnings = List.of("the model file does not say how to preprocess images; using ImageNet's "
                    + "(Resize 256, CenterCrop 224, ImageNet mean and std)");
        } else if (described == null) {
            this.warnings = List.of("the model file does not say how to preprocess images; it can only run tensors");
        } else if (described.channels() != channels) {
            throw new BagNetException("model metadata normalizes " + described.channels() + " channels but "
                    + network.config().name() + " takes " + channels);
        } else {
            this.warnings = List.of();
        }
        this.preprocessing = described;
    }

    /** Loads a model converted by weights-converter/convert.py, using every core. */
    public static BagNet load(Path path) {
        return load(path, Runtime.getRuntime().availableProcessors());
    }

    /** Loads a model converted by weights-converter/convert.py, using {@code threads} threads per call. */
    public static BagNet load(Path path, int threads) {
        VectorSupport.require();
        Workers workers = new Workers(threads);
        try (ModelFile file = ModelFile.open(path)) {
            return new BagNet(new Network(file.config(), file::tensor), file.metadata(), workers);
        }
    }

    /** Name of the model inside the jar, used when no model file is given. */
    public static final String EMBEDDED_NAME = "fashion-mnist-bagnet.safetensors";

    /**
     * Loads the model shipped inside the jar: a small BagNet trained on Fashion-MNIST (28x28 grayscale, 10
     * classes of clothing), see the README.
     */
    public static BagNet embedded() {
        return embedded(Runtime.getRuntime().availableProcessors());
    }

    /** The embedded model, using {@code threads} threads per call. */
    public static BagNet embedded(int threads) {
        VectorSupport.require();
        Workers workers = new Workers(threads);
        byte[] bytes;
        try (InputStream in = BagNet.class.getResourceAsStream("models/" + EMBEDDED_NAME)) {
            if (in == null) {
                throw new BagNetException("the embedded model is missing from the bagnet4j jar");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new BagNetException("cannot read the embedded model: " + e.getMessage());
        }
        try (ModelFile file = ModelFile.of(bytes, EMBEDDED_NAME)) {
            return new BagNet(new Network(file.config(), file::tensor), file.metadata(), workers);
        }
    }

    /**
     * Builds a model from state_dict tensors supplied by name (C order, PyTorch shapes as listed by
     * {@link BagNetConfig#tensorShapes()}).
     */
    public static BagNet fromParameters(BagNetConfig config, Function<String, float[]> parameters, int threads) {
        VectorSupport.require();
        Map<String, int[]> shapes = config.tensorShapes();
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
        Map<String, String> metadata = new LinkedHashMap<>(config.toMetadata());
        if (config.inChannels() == 3) {
            metadata.putAll(Preprocessing.imagenet().toMetadata());
        }
        return new BagNet(new Network(config, checked), metadata, new Workers(threads));
    }

    /**
     * A model with seeded random weights (He-initialized convolutions, batchnorm near identity): for benchmarks
     * and tests, where the cost matters and the answers do not.
     */
    public static BagNet withRandomWeights(BagNetConfig config, long seed, int threads) {
        Random random = new Random(seed);
        Map<String, int[]> shapes = config.tensorShapes();
        return fromParameters(config, name -> {
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
        }, threads);
    }

    /** Multiply-accumulates of one image's class scores at this input size, as bagnet4j computes them. */
    public long macs(int height, int width) {
        return network.macs(height, width);
    }

    public BagNetConfig config() {
        return network.config();
    }

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

    private Preprocessing requirePreprocessing() {
        if (preprocessing == null) {
            throw new BagNetException(config().name() + " has no image preprocessing in its model file; "
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

    /** Side of the square patch each grid cell sees (9, 17 or 33 for the presets). */
    public int receptiveField() {
        return config().receptiveField();
    }

    /** Distance in pixels between neighbouring grid cells (8 for the presets). */
    public int gridStride() {
        return config().gridStride();
    }

    /** Grid cells along an input axis of this size. */
    public int gridSize(int inputSize) {
        return config().gridSize(inputSize);
    }

    /** Image-level class scores (logits) [N][classes]: the mean of the patch-logit grid. */
    public float[][] classScores(Tensor images) {
        check(images);
        if (!runsWhole(images.batch(), images.height(), images.width())) {
            float[][] out = new float[images.batch()][];
            for (int n = 0; n < out.length; n++) {
                Tensor one = image(images, n);
                out[n] = images.batch() > 1 ? classScores(one)[0] : stream(one, new StreamRequest()).scores();
            }
            return out;
        }
        Tensor scores = counted(() -> network.classScores(images, workers, workspace.get()));
        requireFinite(scores.data());
        int classes = scores.channels();
        float[][] out = new float[images.batch()][classes];
        for (int n = 0; n < out.length; n++) {
            System.arraycopy(scores.data(), n * classes, out[n], 0, classes);
        }
        return out;
    }

    /** The patch-logit grid [N, gh, gw, classes]: class evidence of every receptive-field patch. */
    public Tensor patchLogits(Tensor images) {
        check(images);
        if (!runsWhole(images.batch(), images.height(), images.width())) {
            int[] all = new int[config().numClasses()];
            Arrays.setAll(all, c -> c);
            return streamedGrids(images, all);
        }
        return requireFinite(counted(() -> network.patchLogits(images, null, false, workers, workspace.get())));
    }

    /** The patch-logit grid for some classes only, [N, gh, gw, classes.length]: cheaper than all classes. */
    public Tensor patchLogits(Tensor images, int... classes) {
        check(images);
        if (!runsWhole(images.batch(), images.height(), images.width())) {
            return streamedGrids(images, checkClasses(classes));
        }
        int[] chosen = checkClasses(classes);
        return requireFinite(counted(() -> network.patchLogits(images, chosen, false, workers, workspace.get())));
    }

    /**
     * Whether a batch of this size runs whole: its activations fit in a quarter of the free heap. Larger inputs
     * are streamed tile by tile by {@link #classScores} and {@link #patchLogits} (the same results, to the bit).
     */
    public boolean runsWhole(int batch, int height, int width) {
        return activationBytes(batch, height, width) <= heapBudget(running.get() + 1);
    }

    /**
     * The heap a call may fill with activations: a quarter of the heap not in use (counting the calling thread's
     * own buffers, which a call of the same size reuses), shared evenly by the calls running at once.
     */
    private long heapBudget(int calls) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()) + workspace.get().retainedBytes();
        return (long) (free * HEAP_SHARE) / Math.max(1, calls);
    }

    /** Runs a call that fills activation buffers, counted among those sharing the heap. */
    private <T> T counted(Supplier<T> call) {
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

    /**
     * Heap a whole-image call on a batch of this size keeps for its activations (reused from call to call), or
     * Long.MAX_VALUE when one of them would exceed a Java array.
     */
    public long activationBytes(int batch, int height, int width) {
        long one = network.activationBytes(height, width);
        return one > Long.MAX_VALUE / batch ? Long.MAX_VALUE : batch * one;
    }

    /** Image by image, each whole if it fits alone, else streamed. */
    private Tensor streamedGrids(Tensor images, int[] classes) {
        List<Tensor> grids = new ArrayList<>();
        for (int n = 0; n < images.batch(); n++) {
            Tensor one = image(images, n);
            grids.add(images.batch() > 1 && runsWhole(1, one.height(), one.width())
                    ? counted(() -> network.patchLogits(one, classes, false, workers, workspace.get()))
                    : stream(one, new StreamRequest().classes(classes).keepGrid(true)).grid());
        }
        return requireFinite(Tensor.concat(grids));
    }

    private static Tensor image(Tensor images, int n) {
        if (images.batch() == 1) {
            return images;
        }
        int size = images.height() * images.width() * images.channels();
        return Tensor.wrap(Arrays.copyOfRange(images.data(), n * size, (n + 1) * size), 1, images.height(),
                images.width(), images.channels());
    }

    /**
     * Dense evaluation: the logits of the given classes for every q x q window of the input at stride 1,
     * [N, H - q + 1, W - q + 1, classes.length]. Window (y, x) gets exactly what the network gives that window
     * alone (a q x q input), but shared work is done once ("a trous": strides dropped, later kernels dilated).
     */
    public Tensor denseLogits(Tensor images, int... classes) {
        check(images);
        return requireFinite(network.patchLogits(images, checkClasses(classes), true, workers, workspace.get()));
    }

    /**
     * Evaluates one image of any size tile by tile in bounded memory (see {@link StreamRequest}): its class scores,
     * and the grid, best patches or finished rows of chosen classes. Equal to the bit to {@link #classScores} and
     * {@link #patchLogits} of the whole image, whatever the tile size, heap or thread count.
     */
    public StreamResult stream(ImageSource image, StreamRequest request) {
        StreamResult result = counted(() -> new StreamedPass(network, workers, workspace.get()).run(image, request,
                heapBudget(running.get())));
        requireFinite(result.scores());
        return result;
    }

    /** {@link #stream(ImageSource, StreamRequest)} of an image in memory, [1, H, W, C]. */
    public StreamResult stream(Tensor image, StreamRequest request) {
        requireFinite(image.data(), "the input holds %s; inputs must be finite");
        return stream(ImageSource.of(image), request);
    }

    /**
     * An image file read region by region and normalized as this model's preprocessing says (no resizing: the
     * full-resolution image), for {@link #stream}. Close it when done.
     */
    public ImageSource imageSource(Path file, long maxPixels) {
        return new FileImageSource(file, maxPixels, requirePreprocessing());
    }

    private int[] checkClasses(int[] classes) {
        if (classes.length == 0) {
            throw new BagNetException("no classes given");
        }
        return config().checkClasses(classes);
    }

    /**
     * Refuses outputs that overflowed: finite inputs and weights (both checked) can still overflow float32 when the
     * weights are absurdly large, and a NaN must never pass for a score.
     */
    private static Tensor requireFinite(Tensor values) {
        requireFinite(values.data());
        return values;
    }

    static void requireFinite(float[] outputs) {
        requireFinite(outputs, "the model's outputs overflow float32 on this input (%s): its weights are too large");
    }

    private static void requireFinite(float[] values, String problem) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                throw new BagNetException(String.format(Locale.ROOT, problem, v));
            }
        }
    }

    private void check(Tensor images) {
        requireFinite(images.data(), "the input holds %s; inputs must be finite");
        BagNetConfig c = config();
        if (images.channels() != c.inChannels()) {
            throw new BagNetException(c.name() + " expects " + c.inChannels() + " input channels, got "
                    + images.channels());
        }
        int field = c.receptiveField();
        if (images.height() < field || images.width() < field) {
            throw new BagNetException("input " + images.height() + "x" + images.width() + " is smaller than "
                    + c.name() + "'s " + field + "x" + field + " receptive field");
        }
    }
}
