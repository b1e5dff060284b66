package org.bagnet4j;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

import org.bagnet4j.kernels.VectorSupport;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.Network;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.ModelFile;

/**
 * A loaded BagNet. Immutable and safe to share between threads.
 *
 * <pre>{@code
 * BagNet model = BagNet.load(Path.of("bagnet33.safetensors"));
 * float[][] scores = model.classScores(images);   // images: NHWC, normalized
 * Tensor grid = model.patchLogits(images);         // [N, gh, gw, classes]
 * }</pre>
 */
public final class BagNet {
    private final Network network;
    private final Map<String, String> metadata;
    private final Workers workers;

    private BagNet(Network network, Map<String, String> metadata, Workers workers) {
        this.network = network;
        this.metadata = metadata;
        this.workers = workers;
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
        return new BagNet(new Network(config, checked), config.toMetadata(), new Workers(threads));
    }

    public BagNetConfig config() {
        return network.config();
    }

    /** The model file's metadata. */
    public Map<String, String> metadata() {
        return metadata;
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
        Tensor scores = network.classScores(images, workers);
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
        return network.patchLogits(images, workers);
    }

    private void check(Tensor images) {
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
