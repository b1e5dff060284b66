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
import org.bagnet4j.kernels.GridMean;
import org.bagnet4j.kernels.PackedConv;
import org.bagnet4j.kernels.Workers;
import org.bagnet4j.model.Network;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.tensor.Workspace;

/**
 * One image evaluated tile by tile. Every grid cell depends only on its own q x q window, so a tile of T x T cells
 * needs only the input pixels under those windows (s (T - 1) + q on a side, s the grid stride, starting on a
 * multiple of s, which keeps every layer's strides aligned) and gives exactly those cells. Memory is that of one
 * tile's activations plus one band of input rows (which grows with the image's width); the work repeated on the
 * tiles' overlaps is (q - s) / (s T) per side.
 */
final class StreamedPass {
    /** Largest tile side in cells: beyond this the overlap saves almost nothing more. */
    private static final int MAX_TILE_CELLS = 64;
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

    /** @param budget bytes of heap the tiles' activations and the input band may take */
    StreamResult run(ImageSource source, StreamRequest request, long budget) {
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
        int cells = tileCells(request, width, gridHeight, gridWidth, budget);
        int tileRows = Math.min(cells, gridHeight);
        int tileCols = Math.min(cells, gridWidth);
        int tileHeight = stride * (tileRows - 1) + q;
        int tileWidth = stride * (tileCols - 1) + q;

        int[] classes = config.checkClasses(request.classes);
        Outputs outputs = new Outputs(request, classes, gridHeight, gridWidth);
        PackedConv head = outputs.perCell() ? network.classifierFor(classes) : null;

        long bandValues = (long) tileHeight * width * channels;
        if (bandValues > Tensor.MAX_ELEMENTS) {
            throw new BagNetException("a band of " + tileHeight + " rows of a " + width + " pixel wide image needs "
                    + bandValues + " values, more than a Java array holds");
        }
        float[] band = new float[(int) bandValues];
        Tensor tile = Tensor.zeros(1, tileHeight, tileWidth, channels);
        GridMean mean = new GridMean(config.featureChannels(), tileRows);
        for (int by = 0; by < gridHeight; by += tileRows) {
            int rows = Math.min(tileRows, gridHeight - by);
            int y0 = by * stride;
            int bandRows = Math.min(tileHeight, height - y0);
            source.read(0, y0, width, bandRows, band);
            Tensor rowsOut = request.listener != null ? Tensor.zeros(1, rows, gridWidth, classes.length) : null;
            for (int bx = 0; bx < gridWidth; bx += tileCols) {
                int cols = Math.min(tileCols, gridWidth - bx);
                cut(band, bandRows, width, bx * stride, tile);
                Tensor logits = network.tile(tile, rows, cols, mean, head, workers, workspace);
                if (logits != null) {
                    BagNet.requireFinite(logits.data());
                    outputs.add(logits, by, bx, rows, cols, rowsOut);
                }
            }
            mean.closeRows(rows);
            if (rowsOut != null) {
                request.listener.rows(by, rowsOut);
            }
            if (request.progress != null) {
                request.progress.progress(by + rows, gridHeight);
            }
        }
        return new StreamResult(network.classify(mean.mean(), workers), gridHeight, gridWidth, classes, outputs.grid,
                outputs.best(outputs.top), outputs.best(outputs.bottom), Math.max(tileHeight, tileWidth));
    }

    /**
     * Tile side in grid cells: the request's, or the largest whose activations fit the heap share; a multiple of the
     * network's tile alignment (rounded down, but at least the alignment), so that every tile gives the whole image's
     * bits.
     */
    private int tileCells(StreamRequest request, int width, int gridHeight, int gridWidth, long budget) {
        int q = config.receptiveField();
        int stride = config.gridStride();
        int alignment = network.tileAlignment();
        if (request.tileSize > 0) {
            if (request.tileSize < q) {
                throw new BagNetException("tile size " + request.tileSize + " is smaller than " + config.name()
                        + "'s " + q + "x" + q + " receptive field");
            }
            return Math.max(alignment, ((request.tileSize - q) / stride + 1) / alignment * alignment);
        }
        int cells = Math.min(MAX_TILE_CELLS, Math.max(gridHeight, gridWidth));
        cells = (cells + alignment - 1) / alignment * alignment;
        while (cells > alignment && tileBytes(cells, width, gridHeight, gridWidth) > budget) {
            cells -= alignment;
        }
        return cells;
    }

    /** Activations of one tile, plus the input band (tile height x image width) and the tile's own input. */
    private long tileBytes(int cells, int width, int gridHeight, int gridWidth) {
        int q = config.receptiveField();
        int stride = config.gridStride();
        int tileHeight = stride * (Math.min(cells, gridHeight) - 1) + q;
        int tileWidth = stride * (Math.min(cells, gridWidth) - 1) + q;
        long input = 4L * config.inChannels() * tileHeight * ((long) width + tileWidth);
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

    /** Where the evidence of the chosen classes goes, cell by cell: the kept grid, the patch heaps, a band of rows. */
    private final class Outputs {
        final int classes;
        final Tensor grid;
        final List<PatchHeap> top;
        final List<PatchHeap> bottom;
        final boolean listening;

        Outputs(StreamRequest request, int[] chosen, int gridHeight, int gridWidth) {
            if (chosen.length == 0 && (request.keepGrid || request.top > 0 || request.bottom > 0
                    || request.listener != null)) {
                throw new BagNetException("a grid, patches or rows need classes: give StreamRequest.classes(...)");
            }
            classes = chosen.length;
            grid = request.keepGrid ? Tensor.zeros(1, gridHeight, gridWidth, classes) : null;
            top = heaps(request.top, Comparator.comparingDouble(Patch::value));
            bottom = heaps(request.bottom, Comparator.comparingDouble((Patch p) -> -p.value()));
            listening = request.listener != null;
        }

        /** Whether any output needs the evidence of every cell. */
        boolean perCell() {
            return grid != null || !top.isEmpty() || !bottom.isEmpty() || listening;
        }

        /** Takes a tile's logits, [1, tile rows, tile cols, classes], for its cells [0, rows) x [0, cols). */
        void add(Tensor logits, int by, int bx, int rows, int cols, Tensor rowsOut) {
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) {
                    int gx = bx + x;
                    int gy = by + y;
                    for (int i = 0; i < classes; i++) {
                        float v = logits.data()[(y * logits.width() + x) * classes + i];
                        if (grid != null) {
                            grid.data()[(gy * grid.width() + gx) * classes + i] = v;
                        }
                        if (rowsOut != null) {
                            rowsOut.data()[(y * rowsOut.width() + gx) * classes + i] = v;
                        }
                        if (!top.isEmpty()) {
                            offer(top.get(i), gx, gy, v);
                        }
                        if (!bottom.isEmpty()) {
                            offer(bottom.get(i), gx, gy, v);
                        }
                    }
                }
            }
        }

        /** Offers cell (gx, gy) to a heap, making its box only if the heap keeps it. */
        private void offer(PatchHeap heap, int gx, int gy, float value) {
            if (heap.wouldKeep(new Patch("", gx, gy, value, null))) {
                int stride = config.gridStride();
                int q = config.receptiveField();
                heap.offer(new Patch("", gx, gy, value, new EvidenceMap.Box(gx * stride, gy * stride,
                        gx * stride + q, gy * stride + q)));
            }
        }

        private List<PatchHeap> heaps(int size, Comparator<Patch> order) {
            List<PatchHeap> heaps = new ArrayList<>();
            for (int i = 0; size > 0 && i < classes; i++) {
                heaps.add(new PatchHeap(size, order));
            }
            return heaps;
        }

        /** Per class, the patches a heap kept (empty lists without heaps). */
        List<List<Patch>> best(List<PatchHeap> heaps) {
            List<List<Patch>> lists = new ArrayList<>();
            for (int i = 0; i < classes; i++) {
                lists.add(heaps.isEmpty() ? List.of() : heaps.get(i).best());
            }
            return List.copyOf(lists);
        }
    }
}
