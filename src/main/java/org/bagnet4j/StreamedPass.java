package org.bagnet4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer.PatchHeap;
import org.bagnet4j.explain.Patch;
import org.bagnet4j.image.ImageSource;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.Network;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * One image evaluated tile by tile. Every grid cell depends only on its own q x q window, so a tile of T x T cells
 * needs only the input pixels under those windows (8 (T - 1) + q on a side, starting on a multiple of the grid
 * stride, which keeps every layer's strides aligned) and gives exactly those cells. Memory is that of one tile's
 * activations plus one band of input rows; the work repeated on the tiles' overlaps is (q - 8) / (8 T) per side.
 */
final class StreamedPass {
    /** Largest tile side in cells: beyond this the overlap saves almost nothing more. */
    private static final int MAX_TILE_CELLS = 64;
    /** Share of the free heap the automatic tile size may fill. */
    private static final double HEAP_SHARE = 0.25;

    private final Network network;
    private final BagNetConfig config;
    private final Workers workers;
    private final Workspace workspace;

    StreamedPass(Network network, Workers workers, Workspace workspace) {
        this.network = network;
        this.config = network.config();
        this.workers = workers;
        this.workspace = workspace;
    }

    StreamResult run(ImageSource source, StreamRequest request) {
        int height = source.height();
        int width = source.width();
        int channels = config.inChannels();
        int q = config.receptiveField();
        int stride = config.gridStride();
        if (source.channels() != channels) {
            throw new BagNetException(config.name() + " expects " + channels + " input channels, the image has "
                    + source.channels());
        }
        if ((long) width * height > request.maxPixels) {
            throw new BagNetException(String.format(Locale.ROOT, "image is %dx%d = %,d pixels, above the limit of "
                    + "%,d pixels", width, height, (long) width * height, request.maxPixels));
        }
        if (height < q || width < q) {
            throw new BagNetException("input " + height + "x" + width + " is smaller than " + config.name() + "'s "
                    + q + "x" + q + " receptive field");
        }
        int gridHeight = config.gridSize(height);
        int gridWidth = config.gridSize(width);
        int cells = tileCells(request, width, gridHeight, gridWidth);
        int tileRows = Math.min(cells, gridHeight);
        int tileCols = Math.min(cells, gridWidth);
        int tileHeight = stride * (tileRows - 1) + q;
        int tileWidth = stride * (tileCols - 1) + q;

        int[] classes = checkClasses(request.classes);
        int k = classes.length;
        PackedConv head = k == 0 ? null : network.classifierFor(classes);
        Tensor grid = request.keepGrid && k > 0 ? Tensor.zeros(1, gridHeight, gridWidth, k) : null;
        List<PatchHeap> top = heaps(request.top, k, Comparator.comparingDouble(Patch::value));
        List<PatchHeap> bottom = heaps(request.bottom, k, Comparator.comparingDouble((Patch p) -> -p.value()));
        boolean perCell = grid != null || !top.isEmpty() || !bottom.isEmpty() || request.listener != null;

        float[] band = new float[Math.multiplyExact(tileHeight, Math.multiplyExact(width, channels))];
        Tensor tile = Tensor.zeros(1, tileHeight, tileWidth, channels);
        double[] featureSum = new double[config.featureChannels()];
        for (int by = 0; by < gridHeight; by += tileRows) {
            int rows = Math.min(tileRows, gridHeight - by);
            int y0 = by * stride;
            int bandRows = Math.min(tileHeight, height - y0);
            source.read(0, y0, width, bandRows, band);
            Tensor rowsOut = request.listener != null ? Tensor.zeros(1, rows, gridWidth, k) : null;
            for (int bx = 0; bx < gridWidth; bx += tileCols) {
                int cols = Math.min(tileCols, gridWidth - bx);
                cut(band, bandRows, width, bx * stride, tile);
                Tensor logits = network.tile(tile, rows, cols, featureSum, perCell ? head : null, workers,
                        workspace);
                if (logits == null) {
                    continue;
                }
                for (int y = 0; y < rows; y++) {
                    for (int x = 0; x < cols; x++) {
                        int gx = bx + x;
                        int gy = by + y;
                        EvidenceMap.Box box = new EvidenceMap.Box(gx * stride, gy * stride, gx * stride + q,
                                gy * stride + q);
                        for (int i = 0; i < k; i++) {
                            float v = logits.data()[(y * tileCols + x) * k + i];
                            if (grid != null) {
                                grid.data()[(gy * gridWidth + gx) * k + i] = v;
                            }
                            if (rowsOut != null) {
                                rowsOut.data()[(y * gridWidth + gx) * k + i] = v;
                            }
                            if (!top.isEmpty()) {
                                top.get(i).offer(new Patch("", gx, gy, v, box));
                            }
                            if (!bottom.isEmpty()) {
                                bottom.get(i).offer(new Patch("", gx, gy, v, box));
                            }
                        }
                    }
                }
            }
            if (rowsOut != null) {
                request.listener.rows(by, rowsOut);
            }
            if (request.progress != null) {
                request.progress.progress(by + rows, gridHeight);
            }
        }
        float[] mean = new float[featureSum.length];
        for (int c = 0; c < mean.length; c++) {
            mean[c] = (float) (featureSum[c] / ((long) gridHeight * gridWidth));
        }
        return new StreamResult(network.classify(mean, workers), gridHeight, gridWidth, classes, grid, best(top, k),
                best(bottom, k), Math.max(tileHeight, tileWidth));
    }

    /** Tile side in grid cells: the request's, or the largest whose activations fit the heap share. */
    private int tileCells(StreamRequest request, int width, int gridHeight, int gridWidth) {
        int q = config.receptiveField();
        int stride = config.gridStride();
        if (request.tileSize > 0) {
            if (request.tileSize < q) {
                throw new BagNetException("tile size " + request.tileSize + " is smaller than " + config.name()
                        + "'s " + q + "x" + q + " receptive field");
            }
            return (request.tileSize - q) / stride + 1;
        }
        long budget = heapBudget(workspace);
        int cells = Math.min(MAX_TILE_CELLS, Math.max(gridHeight, gridWidth));
        while (cells > 1 && tileBytes(cells, width, gridHeight, gridWidth) > budget) {
            cells--;
        }
        return cells;
    }

    /**
     * Bytes of activations a pass may use: a quarter of the heap not in use, counting as free what the calling
     * thread's workspace already holds (a pass of the same size reuses it).
     */
    static long heapBudget(Workspace workspace) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()) + workspace.retainedBytes();
        return (long) (free * HEAP_SHARE);
    }

    private long tileBytes(int cells, int width, int gridHeight, int gridWidth) {
        int q = config.receptiveField();
        int stride = config.gridStride();
        int side = stride * (cells - 1) + q;
        int tileHeight = stride * (Math.min(cells, gridHeight) - 1) + q;
        int tileWidth = stride * (Math.min(cells, gridWidth) - 1) + q;
        long input = 4L * config.inChannels() * ((long) side * width + (long) tileHeight * tileWidth);
        return network.activationBytes(tileHeight, tileWidth) + input;
    }

    /** Copies the tile starting at column x0 out of the band, zeros past the image's right and bottom edges. */
    private static void cut(float[] band, int bandRows, int width, int x0, Tensor tile) {
        int c = tile.channels();
        int tileWidth = tile.width();
        int copyCols = Math.min(tileWidth, width - x0);
        float[] dst = tile.data();
        for (int r = 0; r < tile.height(); r++) {
            int rowStart = r * tileWidth * c;
            if (r < bandRows) {
                System.arraycopy(band, (r * width + x0) * c, dst, rowStart, copyCols * c);
                Arrays.fill(dst, rowStart + copyCols * c, rowStart + tileWidth * c, 0f);
            } else {
                Arrays.fill(dst, rowStart, rowStart + tileWidth * c, 0f);
            }
        }
    }

    private int[] checkClasses(int[] classes) {
        for (int c : classes) {
            if (c < 0 || c >= config.numClasses()) {
                throw new BagNetException("class " + c + " is outside [0, " + config.numClasses() + ")");
            }
        }
        return classes.clone();
    }

    private static List<PatchHeap> heaps(int size, int classes, Comparator<Patch> order) {
        List<PatchHeap> heaps = new ArrayList<>();
        for (int i = 0; size > 0 && i < classes; i++) {
            heaps.add(new PatchHeap(size, order));
        }
        return heaps;
    }

    private static List<List<Patch>> best(List<PatchHeap> heaps, int classes) {
        List<List<Patch>> lists = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            lists.add(heaps.isEmpty() ? List.of() : heaps.get(i).best());
        }
        return List.copyOf(lists);
    }
}
