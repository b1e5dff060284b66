package org.bagnet4j.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.BagNet;
import org.bagnet4j.tensor.Tensor;

/**
 * Occluded variants of one input for a BagNet, recomputing only the grid cells whose q x q windows meet an
 * occluder: the image's scores are the mean of its cells' logits, and every other cell keeps its clean logits.
 * Each variant runs the network on the smallest crop that holds the windows of its changed cells (its origin a
 * multiple of the grid stride, so the crop's cells are the image's), batched with variants of the same crop size.
 */
final class BagNetCells {
    private BagNetCells() {
    }

    /** The scores of each variant, [variants][classes], as a whole pass over the occluded input would give. */
    static float[][] occluded(BagNet bagnet, Tensor input, Variants.Occluders[] variants) {
        Tensor clean = bagnet.patchLogits(input);
        int rows = clean.height();
        int columns = clean.width();
        int classes = clean.channels();
        double[] total = new double[classes];
        for (int cell = 0; cell < rows * columns; cell++) {
            for (int c = 0; c < classes; c++) {
                total[c] += clean.data()[cell * classes + c];
            }
        }
        // Variants grouped by the size of their crop, in order, so that each group runs as batches.
        Map<Long, List<Integer>> groups = new LinkedHashMap<>();
        int[][] boxes = new int[variants.length][];
        float[][] scores = new float[variants.length][];
        for (int v = 0; v < variants.length; v++) {
            boxes[v] = changedCells(bagnet, rows, columns, variants[v]);
            if (boxes[v] == null) {
                scores[v] = recombined(total, clean, null, null, 0);
                continue;
            }
            groups.computeIfAbsent(((long) (boxes[v][1] - boxes[v][0]) << 32) | (boxes[v][3] - boxes[v][2]),
                    k -> new ArrayList<>()).add(v);
        }
        int s = bagnet.gridStride();
        int q = bagnet.receptiveField();
        int ch = input.channels();
        for (List<Integer> group : groups.values()) {
            int[] first = boxes[group.getFirst()];
            int cellRows = first[1] - first[0];
            int cellColumns = first[3] - first[2];
            int h = (cellRows - 1) * s + q;
            int w = (cellColumns - 1) * s + q;
            int batchSize = Variants.batchSize(bagnet, h, w);
            for (int start = 0; start < group.size(); start += batchSize) {
                List<Integer> batch = group.subList(start, Math.min(group.size(), start + batchSize));
                float[] crops = new float[batch.size() * h * w * ch];
                for (int b = 0; b < batch.size(); b++) {
                    int[] box = boxes[batch.get(b)];
                    crop(input, box[0] * s, box[2] * s, h, w, crops, b * h * w * ch);
                    Variants.Occluders o = variants[batch.get(b)];
                    for (int i = 0; i < o.ys().length; i++) {
                        Variants.occlude(crops, b * h * w * ch, h, w, ch, o.ys()[i] - box[0] * s,
                                o.xs()[i] - box[2] * s, o.side());
                    }
                }
                Tensor cells = bagnet.patchLogits(Tensor.wrap(crops, batch.size(), h, w, ch));
                if (cells.height() != cellRows || cells.width() != cellColumns) {
                    throw new IllegalStateException("a crop of " + w + "x" + h + " gave " + cells.width() + "x"
                            + cells.height() + " cells, not " + cellColumns + "x" + cellRows);
                }
                for (int b = 0; b < batch.size(); b++) {
                    scores[batch.get(b)] = recombined(total, clean, boxes[batch.get(b)], cells, b);
                }
            }
        }
        return scores;
    }

    /** [first row, end row, first column, end column) of the cells whose windows meet an occluder; null if none. */
    private static int[] changedCells(BagNet bagnet, int rows, int columns, Variants.Occluders o) {
        int s = bagnet.gridStride();
        int q = bagnet.receptiveField();
        int[] box = {rows, 0, columns, 0};
        for (int i = 0; i < o.ys().length; i++) {
            // Cell r sees rows [s r, s r + q): it meets [y, y + side) when s r < y + side and s r + q > y.
            box[0] = Math.min(box[0], Math.max(0, Math.floorDiv(o.ys()[i] - q, s) + 1));
            box[1] = Math.max(box[1], Math.min(rows, Math.floorDiv(o.ys()[i] + o.side() - 1, s) + 1));
            box[2] = Math.min(box[2], Math.max(0, Math.floorDiv(o.xs()[i] - q, s) + 1));
            box[3] = Math.max(box[3], Math.min(columns, Math.floorDiv(o.xs()[i] + o.side() - 1, s) + 1));
        }
        return box[0] < box[1] && box[2] < box[3] ? box : null;
    }

    private static void crop(Tensor input, int y0, int x0, int h, int w, float[] dst, int offset) {
        int c = input.channels();
        for (int y = 0; y < h; y++) {
            System.arraycopy(input.data(), ((y0 + y) * input.width() + x0) * c, dst, offset + y * w * c, w * c);
        }
    }

    /**
     * The image's scores with the box's clean cells replaced by the recomputed ones of batch item {@code b}; with no
     * box, the clean image's.
     */
    private static float[] recombined(double[] total, Tensor clean, int[] box, Tensor cells, int b) {
        int classes = clean.channels();
        double[] sum = total.clone();
        for (int r = box == null ? 0 : box[0]; box != null && r < box[1]; r++) {
            for (int col = box[2]; col < box[3]; col++) {
                int before = (r * clean.width() + col) * classes;
                int after = (((b * cells.height()) + r - box[0]) * cells.width() + col - box[2]) * classes;
                for (int c = 0; c < classes; c++) {
                    sum[c] += (double) cells.data()[after + c] - clean.data()[before + c];
                }
            }
        }
        float[] scores = new float[classes];
        int count = clean.height() * clean.width();
        for (int c = 0; c < classes; c++) {
            scores[c] = (float) (sum[c] / count);
        }
        return scores;
    }
}
