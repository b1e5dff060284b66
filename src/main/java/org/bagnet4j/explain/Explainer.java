package org.bagnet4j.explain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

import org.bagnet4j.BagNet;
import org.bagnet4j.Cnn;
import org.bagnet4j.BagNetException;
import org.bagnet4j.StreamRequest;
import org.bagnet4j.StreamResult;
import org.bagnet4j.tensor.Tensor;

/** Class evidence of a BagNet's patches: the patch grid, exact full-resolution maps, and the strongest patches. */
public final class Explainer {
    /** Memory the dense pass may use, as a share of the heap; larger regions run in bands of rows. */
    private static final double HEAP_SHARE = 0.35;

    private Explainer() {
    }

    /** A region of the image, in input pixels: [x0, x1) x [y0, y1). */
    public record Region(int x0, int y0, int x1, int y1) {
    }

    /**
     * The evidence of one class on the model's patch grid (stride {@code model.gridStride()}, 8 for the ImageNet
     * presets): its mean is the class's logit.
     */
    public static EvidenceMap grid(BagNet model, Tensor input, int classIndex) {
        return grid(model, input, classIndex, null);
    }

    /**
     * {@link #grid(BagNet, Tensor, int)}, telling {@code progress} how far it has come when the image is too large
     * to run whole and is evaluated tile by tile (the same values either way).
     */
    public static EvidenceMap grid(BagNet model, Tensor input, int classIndex, ProgressListener progress) {
        requireOne(input);
        Tensor logits = progress == null || model.runsWhole(1, input.height(), input.width())
                ? model.patchLogits(input, classIndex)
                : model.stream(input, new StreamRequest().classes(classIndex).keepGrid(true).progress(progress)).grid();
        return grid(model, logits, 0, classIndex);
    }

    /**
     * The map of one class taken from a patch-logit grid of all classes ({@link BagNet#patchLogits(Tensor)} of one
     * image), so that one network pass serves the scores and any number of maps.
     */
    public static EvidenceMap fromLogits(BagNet model, Tensor allClasses, int classIndex) {
        requireOne(allClasses);
        if (allClasses.channels() != model.config().numClasses()) {
            throw new BagNetException("expected a grid of all " + model.config().numClasses() + " classes, got "
                    + allClasses.channels());
        }
        return grid(model, allClasses, classIndex, classIndex);
    }

    /**
     * One image's class scores and the patch grids of all its classes, from one pass ({@link #fromLogits} takes
     * maps from it). The grid holds cells x classes values: for inputs that {@link BagNet#runsWhole} allows.
     */
    public static StreamResult scoresAndGrids(BagNet model, Tensor image) {
        int[] all = new int[model.config().numClasses()];
        Arrays.setAll(all, c -> c);
        return model.stream(image, new StreamRequest().classes(all).keepGrid(true));
    }

    private static EvidenceMap grid(BagNet model, Tensor logits, int channel, int classIndex) {
        int cells = logits.height() * logits.width();
        float[] values = new float[cells];
        for (int i = 0; i < cells; i++) {
            values[i] = logits.data()[i * logits.channels() + channel];
        }
        return new EvidenceMap(classIndex, model.labels().name(classIndex), logits.width(), logits.height(), values,
                model.receptiveField(), model.gridStride(), 0, 0, 0);
    }

    /**
     * A ResNet's or DenseNet's class activation map for one class: the classifier at every cell of the last feature
     * map, which averages exactly to the class's logit. Cell (x, y) is drawn on its {@link Cnn#cellStride()}-sized
     * block of the input, where its features sit, though it sees far more of the image than that block.
     */
    public static EvidenceMap activationMap(Cnn model, Tensor input, int classIndex) {
        requireOne(input);
        Tensor map = model.classActivationMap(input, classIndex);
        int stride = model.cellStride();
        return new EvidenceMap(classIndex, model.labels().name(classIndex), map.width(), map.height(),
                map.data().clone(), stride, stride, 0, 0, 0);
    }

    /**
     * The reference heatmap, exactly: every pixel gets the class logit of the q x q patch centred on it, the image
     * zero-padded (in normalized values, i.e. the mean colour) by (q-1)/2. Computed by dense evaluation, each
     * patch once; regions larger than the memory allows run in bands of rows.
     *
     * @param region the pixels to compute, or null for all
     * @param progress told (rows done, rows in all) after each band; may be null
     */
    public static EvidenceMap fullResolution(BagNet model, Tensor input, int classIndex, Region region,
            ProgressListener progress) {
        return fullResolution(model, input, classIndex, region, progress, 0);
    }

    /** As above, with at most {@code maxBandRows} output rows per dense pass (0: as the heap allows). */
    static EvidenceMap fullResolution(BagNet model, Tensor input, int classIndex, Region region,
            ProgressListener progress, int maxBandRows) {
        Frame f = new Frame(model, checkedRegion(input, region));
        Region r = f.region();
        int q = f.q();
        int half = f.half();
        int outW = f.width();
        int outH = f.height();
        float[] values = new float[outW * outH];
        int band = maxBandRows > 0 ? maxBandRows : bandRows(model, outW + q - 1, outH);
        for (int y = 0; y < outH; y += band) {
            int rows = Math.min(band, outH - y);
            // Padded input rows [r.y0 + y, r.y0 + y + rows + q - 1) and columns [r.x0, r.x1 + q - 1).
            Tensor window = paddedWindow(input, r.x0() - half, r.y0() + y - half, outW + q - 1, rows + q - 1);
            Tensor logits = model.denseLogits(window, classIndex);
            System.arraycopy(logits.data(), 0, values, y * outW, rows * outW);
            if (progress != null) {
                progress.progress(y + rows, outH);
            }
        }
        return f.map(classIndex, values);
    }

    /**
     * The reference method as its authors run it: every q x q patch of the zero-padded image through the network
     * by itself, in batches. Gives what {@link #fullResolution} gives at many times the cost; kept as the baseline
     * that benchmarks and tests compare against.
     */
    public static EvidenceMap fullResolutionPerPatch(BagNet model, Tensor input, int classIndex, Region region) {
        Frame f = new Frame(model, checkedRegion(input, region));
        Region r = f.region();
        int outW = f.width();
        float[] values = new float[outW * f.height()];
        int batch = 256;
        for (int start = 0; start < values.length; start += batch) {
            int count = Math.min(batch, values.length - start);
            List<Tensor> patches = new ArrayList<>(count);
            for (int i = start; i < start + count; i++) {
                patches.add(paddedWindow(input, r.x0() + i % outW - f.half(), r.y0() + i / outW - f.half(), f.q(),
                        f.q()));
            }
            Tensor logits = model.patchLogits(Tensor.concat(patches), classIndex);
            System.arraycopy(logits.data(), 0, values, start, count);
        }
        return f.map(classIndex, values);
    }

    /** A full-resolution map's geometry: the region, the patch side q and half of it, the map's size. */
    private record Frame(BagNet model, Region region, int q, int half, int width, int height) {
        Frame(BagNet model, Region region) {
            this(model, region, model.receptiveField(), (model.receptiveField() - 1) / 2,
                    region.x1() - region.x0(), region.y1() - region.y0());
        }

        /** Pixel (x, y) of the map is the patch centred on input pixel (x0 + x, y0 + y). */
        EvidenceMap map(int classIndex, float[] values) {
            return new EvidenceMap(classIndex, model.labels().name(classIndex), width, height, values, q, 1, -half,
                    region.x0(), region.y0());
        }
    }

    /** The region (all of the input when null), checked to be non-empty and inside the input. */
    public static Region checkedRegion(Tensor input, Region region) {
        requireOne(input);
        int h = input.height();
        int w = input.width();
        Region r = region == null ? new Region(0, 0, w, h) : region;
        if (r.x0() < 0 || r.y0() < 0 || r.x1() > w || r.y1() > h || r.x0() >= r.x1() || r.y0() >= r.y1()) {
            throw new BagNetException("region " + r.x0() + "," + r.y0() + "-" + r.x1() + "," + r.y1()
                    + " is empty or outside the " + w + "x" + h + " input");
        }
        return r;
    }

    /** Output rows per dense pass so that its feature maps stay within a share of the heap. */
    private static int bandRows(BagNet model, int paddedWidth, int outRows) {
        long bytesPerRow = 4L * paddedWidth * model.config().featureChannels() * 3;
        long budget = (long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE);
        int rows = (int) Math.max(1, budget / bytesPerRow - (model.receptiveField() - 1));
        return Math.max(8, Math.min(outRows, rows));
    }

    /** A width x height window of the image starting at (x0, y0), zero outside the image. */
    private static Tensor paddedWindow(Tensor input, int x0, int y0, int width, int height) {
        int c = input.channels();
        Tensor out = Tensor.zeros(1, height, width, c);
        int from = Math.max(0, -x0);
        int to = Math.min(width, input.width() - x0);
        for (int y = 0; y < height; y++) {
            int sy = y0 + y;
            if (sy >= 0 && sy < input.height() && to > from) {
                System.arraycopy(input.data(), (sy * input.width() + x0 + from) * c, out.data(), (y * width + from) * c,
                        (to - from) * c);
            }
        }
        return out;
    }

    private static void requireOne(Tensor input) {
        if (input.batch() != 1) {
            throw new BagNetException("explanations take one image at a time, got a batch of " + input.batch());
        }
    }

    /** The k patches with the most evidence for the class, strongest first. */
    public static List<Patch> top(EvidenceMap map, int k, String source) {
        return strongest(map, k, source, Comparator.comparingDouble(Patch::value));
    }

    /** The k patches with the most evidence against the class, strongest first. */
    public static List<Patch> bottom(EvidenceMap map, int k, String source) {
        return strongest(map, k, source, Comparator.comparingDouble((Patch p) -> -p.value()));
    }

    private static List<Patch> strongest(EvidenceMap map, int k, String source, Comparator<Patch> order) {
        PatchHeap heap = new PatchHeap(k, order);
        for (int y = 0; y < map.height(); y++) {
            for (int x = 0; x < map.width(); x++) {
                heap.offer(map, x, y, source);
            }
        }
        return heap.best();
    }

    /**
     * The k best patches seen so far by some order, in bounded memory: a heap whose root is the weakest kept
     * candidate, so a folder of any size is searched in one streaming pass.
     */
    public static final class PatchHeap {
        private final int k;
        private final Comparator<Patch> order;
        private final PriorityQueue<Patch> heap;

        public PatchHeap(int k, Comparator<Patch> order) {
            if (k < 1) {
                throw new BagNetException("need at least one patch, got k = " + k);
            }
            this.k = k;
            this.order = order;
            this.heap = new PriorityQueue<>(k, order);
        }

        /** Considers the patch at (x, y) of a map. */
        public void offer(EvidenceMap map, int x, int y, String source) {
            float v = map.value(x, y);
            if (wouldKeep(new Patch(source, x, y, v, null))) {
                offer(new Patch(source, x, y, v, map.box(x, y)));
            }
        }

        /** Whether {@link #offer(Patch)} would keep this candidate now. */
        public boolean wouldKeep(Patch candidate) {
            return heap.size() < k || order.compare(candidate, heap.peek()) > 0;
        }

        /** Considers a patch. */
        public void offer(Patch candidate) {
            if (heap.size() == k) {
                if (order.compare(candidate, heap.peek()) <= 0) {
                    return;
                }
                heap.poll();
            }
            heap.add(candidate);
        }

        /** The kept patches, strongest first. */
        public List<Patch> best() {
            List<Patch> list = new ArrayList<>(heap);
            list.sort(order.reversed());
            return list;
        }
    }
}
