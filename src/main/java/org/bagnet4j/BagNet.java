package org.bagnet4j;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.bagnet4j.image.ImageSource;
import org.bagnet4j.kernels.VectorSupport;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.Network;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.ModelFile;

/**
 * A loaded BagNet: class scores, and the evidence behind them, patch by patch. Immutable and safe to share between
 * threads.
 *
 * <pre>{@code
 * BagNet model = BagNet.load(Path.of("bagnet33.safetensors"));
 * List<Prediction> top5 = model.classify(Path.of("cat.jpg"));
 * float[][] scores = model.classScores(images);   // images: NHWC, normalized
 * Tensor grid = model.patchLogits(images);         // [N, gh, gw, classes]
 * }</pre>
 */
public final class BagNet extends Model {
    private final Network network;

    BagNet(BagNetConfig config, Function<String, float[]> parameters, Map<String, String> metadata,
            Workers workers) {
        super(config, metadata, workers);
        this.network = new Network(config, parameters);
    }

    /** Loads a BagNet model file or PyTorch checkpoint (see {@link Model#load(Path)}), using every core. */
    public static BagNet load(Path path) {
        return load(path, Runtime.getRuntime().availableProcessors());
    }

    /** Loads a BagNet model file or PyTorch checkpoint, using {@code threads} threads per call. */
    public static BagNet load(Path path, int threads) {
        VectorSupport.require();
        Workers workers = new Workers(threads);
        try (ModelFile file = ModelFile.open(path)) {
            return new BagNet(bagNetConfig(file, path.getFileName()), file::tensor, file.metadata(), workers);
        }
    }

    /** The file's architecture, checked to be a BagNet's before any weight is read. */
    private static BagNetConfig bagNetConfig(ModelFile file, Object source) {
        if (file.architecture() instanceof BagNetConfig config) {
            return config;
        }
        throw new BagNetException(source + " holds a " + file.architecture().name() + " ("
                + file.architecture().family() + "), not a BagNet: load it with Model.load");
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
        return (BagNet) Model.embedded(EMBEDDED_NAME, threads);
    }

    /**
     * Builds a model from state_dict tensors supplied by name (C order, PyTorch shapes as listed by
     * {@link BagNetConfig#tensorShapes()}).
     */
    public static BagNet fromParameters(BagNetConfig config, Function<String, float[]> parameters, int threads) {
        return (BagNet) Model.fromParameters(config, parameters, threads);
    }

    /**
     * A BagNet with seeded random weights (He-initialized convolutions, batchnorm near identity): for benchmarks and
     * tests, where the cost matters and the answers do not.
     */
    public static BagNet withRandomWeights(BagNetConfig config, long seed, int threads) {
        return (BagNet) Model.withRandomWeights(config, seed, threads);
    }

    @Override
    public long macs(int height, int width) {
        return network.macs(height, width);
    }

    /** Multiply-accumulates of {@link #denseLogits} for {@code classes} classes on one input of this size. */
    public long denseMacs(int height, int width, int classes) {
        return network.macs(height, width, true, classes);
    }

    public BagNetConfig config() {
        return network.config();
    }

    @Override
    public BagNetConfig architecture() {
        return network.config();
    }

    /** The receptive field: a BagNet's grid needs one whole patch. */
    @Override
    public int minInputSize() {
        return receptiveField();
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
    @Override
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
        return rows(counted(() -> network.classScores(images, workers, workspace.get())));
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

    @Override
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
                heapBudget(running())));
        requireFinite(result.scores());
        return result;
    }

    /** {@link #stream(ImageSource, StreamRequest)} of an image in memory, [1, H, W, C]. */
    public StreamResult stream(Tensor image, StreamRequest request) {
        requireFinite(image.data(), "the input holds %s; inputs must be finite");
        return stream(ImageSource.of(image), request);
    }

    /**
     * An image file read region by region and prepared as this model's preprocessing says, without resizing or
     * cropping (the full-resolution image, grayscale for a one-channel model, padded if the model pads), for
     * {@link #stream}; transparent pixels lose their alpha, as PIL's {@code convert("RGB")} does. The same values as
     * {@code preprocessing().withSize(0, 0).apply(ImageDecoder.read(file))}. Close it when done.
     */
    public ImageSource imageSource(Path file, long maxPixels) {
        return imageSource(file, maxPixels, null);
    }

    /** {@link #imageSource(Path, long)} with transparent pixels composited over {@code alphaBackground}. */
    public ImageSource imageSource(Path file, long maxPixels, Color alphaBackground) {
        return new FileImageSource(file, maxPixels, requirePreprocessing(), alphaBackground);
    }

    private void check(Tensor images) {
        checkValuesAndChannels(images);
        BagNetConfig c = config();
        int field = c.receptiveField();
        if (images.height() < field || images.width() < field) {
            throw new BagNetException("input " + images.height() + "x" + images.width() + " is smaller than "
                    + c.name() + "'s " + field + "x" + field + " receptive field");
        }
    }
}
