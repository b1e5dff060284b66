package org.bagnet4j;

import java.util.Locale;
import java.util.Map;

import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.ConvNet;
import org.bagnet4j.tensor.Tensor;

/**
 * A loaded standard CNN (torchvision's ResNet, VGG and DenseNet families), run exactly as PyTorch defines it. Immutable and
 * safe to share between threads. Load one with {@link Model#load}.
 *
 * <p>ResNets and DenseNets end in global average pooling and a linear classifier, so the classifier applied at every cell of
 * its last feature map, the class activation map, averages exactly to its class scores: its evidence grid, the
 * counterpart of a BagNet's patch logits (but each cell sees most of the image, not a small patch). A VGG's
 * fully connected classifier has no such map.
 */
public final class Cnn extends Model {
    private final Architecture config;
    private final ConvNet network;

    Cnn(Architecture config, ConvNet network, Map<String, String> metadata, Workers workers) {
        super(config, metadata, workers);
        this.config = config;
        this.network = network;
    }

    @Override
    public Architecture architecture() {
        return config;
    }

    @Override
    public int minInputSize() {
        return network.minInputSize();
    }

    @Override
    public long macs(int height, int width) {
        return network.macs(height, width);
    }

    @Override
    public long activationBytes(int batch, int height, int width) {
        return network.activationBytes(batch, height, width);
    }

    /** Input pixels between neighbouring cells of the last feature map, on large inputs (32 for these families). */
    public int cellStride() {
        int side = 1 << 12;
        return side / Math.max(1, network.featureSize(side));
    }

    /** Cells of the last feature map (and the class activation map) along an input axis of this size. */
    public int featureSize(int inputSize) {
        return network.featureSize(inputSize);
    }

    /** Image-level class scores (logits), [N][classes]: the classifier on the averaged last feature map. */
    @Override
    public float[][] classScores(Tensor images) {
        check(images);
        return rows(counted(() -> network.classScores(images, workers, workspace.get())));
    }

    /** Whether the model has a class activation map (it ends in global average pooling: ResNet, DenseNet). */
    public boolean hasClassActivationMap() {
        return network.hasClassActivationMap();
    }

    /** The class activation map of every class, [N, fh, fw, classes]: its mean over cells is the class scores. */
    public Tensor classActivationMap(Tensor images) {
        requireClassActivationMap();
        check(images);
        return requireFinite(counted(() -> network.classActivationMap(images, null, workers, workspace.get())));
    }

    /** The class activation map of some classes only, [N, fh, fw, classes.length]. */
    public Tensor classActivationMap(Tensor images, int... classes) {
        requireClassActivationMap();
        check(images);
        int[] chosen = checkClasses(classes);
        return requireFinite(counted(() -> network.classActivationMap(images, chosen, workers, workspace.get())));
    }

    private void requireClassActivationMap() {
        if (!network.hasClassActivationMap()) {
            throw new BagNetException(config.name() + " (" + config.family() + ") has no class activation map: its "
                    + "classifier is not a linear layer after global average pooling");
        }
    }

    private void check(Tensor images) {
        checkValuesAndChannels(images);
        int min = network.minInputSize();
        if (images.height() < min || images.width() < min) {
            throw new BagNetException("input " + images.height() + "x" + images.width() + " is smaller than the "
                    + min + "x" + min + " " + config.name() + " takes");
        }
        // A CNN cannot stream, so before refusing, count only live memory: the free heap includes garbage (e.g. a
        // model just replaced) until a collection. Only on this rare path, never on a call that fits.
        boolean fits = runsWhole(images.batch(), images.height(), images.width());
        if (!fits) {
            System.gc();
            fits = runsWhole(images.batch(), images.height(), images.width());
        }
        if (!fits) {
            throw new BagNetException(String.format(Locale.ROOT,
                    "%s on %d image(s) of %dx%d needs %,d MB of activations, more than a quarter of the free heap: "
                            + "give java more heap (-Xmx) or use smaller batches", config.name(), images.batch(),
                    images.height(), images.width(), activationBytes(images.batch(), images.height(),
                            images.width()) >> 20));
        }
    }
}
