package org.bagnet4j.compare;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.bagnet4j.BagNet;
import org.bagnet4j.Model;
import org.bagnet4j.tensor.Tensor;

/**
 * What recomputing only the changed grid cells saves a BagNet in {@code compare}: per image, the class scores of
 * 112 occluded variants (an occlusion map of 64 squares of 4 pixels, and 16 interaction pairs of squares of 4 and 8
 * pixels at gaps 0-25, each square alone and both) by {@link BagNetCells} and by whole passes, interleaved, on one
 * thread, for each embedded BagNet, on the first Fashion-MNIST test images; the median of the repeats, and the
 * largest difference between the two ways' scores. In package compare to reach the package-private measurement
 * code. Usage: CellReuse [images] [repeats] (default 100, 5).
 */
public final class CellReuse {
    private static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");

    private CellReuse() {
    }

    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (!Files.isDirectory(DATA)) {
            System.err.println("CellReuse needs Debian's dataset-fashion-mnist (" + DATA + ")");
            System.exit(2);
        }
        System.out.printf(Locale.ROOT, "%d Fashion-MNIST test images, %d occluded variants each, 1 thread, median of "
                + "%d interleaved repeats%n%n", count, variants(34).length, repeats);
        System.out.println("| BagNet | grid | changed cells only, ms/image | whole passes, ms/image | speed-up | max |diff| |");
        System.out.println("|---|---|---|---|---|---|");
        List<BagNet> bagnets = Model.EMBEDDED.stream().map(name -> Model.embedded(name, 1))
                .filter(m -> m instanceof BagNet).map(m -> (BagNet) m)
                .sorted(java.util.Comparator.comparingInt(BagNet::receptiveField)).toList();
        for (BagNet bagnet : bagnets) {
            LabelledImages images = IdxImages.read(DATA.resolve("t10k-images-idx3-ubyte.gz"),
                    DATA.resolve("t10k-labels-idx1-ubyte.gz"), bagnet.labels().names()).limit(count);
            List<Tensor> inputs = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                inputs.add(bagnet.preprocessing().apply(images.image(i)));
            }
            Variants.Occluders[] variants = variants(inputs.getFirst().height());
            double[] cells = new double[repeats];
            double[] whole = new double[repeats];
            double maxDiff = 0;
            for (int r = -1; r < repeats; r++) { // round -1 warms up
                long t0 = System.nanoTime();
                List<float[][]> fast = inputs.stream().map(x -> BagNetCells.occluded(bagnet, x, variants)).toList();
                long t1 = System.nanoTime();
                List<float[][]> slow = inputs.stream().map(x -> Variants.wholePasses(bagnet, x, variants)).toList();
                long t2 = System.nanoTime();
                if (r >= 0) {
                    cells[r] = (t1 - t0) / 1e6 / inputs.size();
                    whole[r] = (t2 - t1) / 1e6 / inputs.size();
                }
                for (int i = 0; i < fast.size(); i++) {
                    for (int v = 0; v < variants.length; v++) {
                        for (int c = 0; c < fast.get(i)[v].length; c++) {
                            maxDiff = Math.max(maxDiff, Math.abs(fast.get(i)[v][c] - slow.get(i)[v][c]));
                        }
                    }
                }
            }
            double a = median(cells);
            double b = median(whole);
            int grid = bagnet.gridSize(inputs.getFirst().height());
            System.out.printf(Locale.ROOT, "| q = %d | %d x %d | %.2f | %.2f | %.2fx | %.1e |%n", bagnet.receptiveField(),
                    grid, grid, a, b, b / a, maxDiff);
        }
    }

    /** An occlusion map's squares and interaction pairs, as compare makes them on a side x side input. */
    static Variants.Occluders[] variants(int side) {
        List<Variants.Occluders> list = new ArrayList<>();
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                list.add(new Variants.Occluders(4, new int[] {1 + 4 * y}, new int[] {1 + 4 * x}));
            }
        }
        for (int square : new int[] {4, 8}) {
            for (int gap : new int[] {0, 2, 4, 8, 12, 16, 20, 25}) {
                int x0 = 0;
                int x1 = Math.min(side - square, square + gap);
                int y = (side - square) / 2;
                list.add(new Variants.Occluders(square, new int[] {y}, new int[] {x0}));
                list.add(new Variants.Occluders(square, new int[] {y}, new int[] {x1}));
                list.add(new Variants.Occluders(square, new int[] {y, y}, new int[] {x0, x1}));
            }
        }
        return list.toArray(Variants.Occluders[]::new);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
