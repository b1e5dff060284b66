package org.bagnet4j.benchmarks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.StreamRequest;
import org.bagnet4j.StreamResult;
import org.bagnet4j.image.ImageSource;

/**
 * Streamed passes over large images in a bounded heap: for each size, a fresh JVM with -Xmx512m (weights
 * included) runs bagnet33 with random weights over a synthetic image of that size (generated band by band, never
 * held whole), keeping the class scores and the 10 best patches of 10 classes. Prints seconds, seconds per
 * megapixel, the tile size chosen and the heap's peak (all pools' peaks summed, garbage included).
 * Usage: LargeImages [preset] [heap] [size ...] (default bagnet33 512m 1024 4096 8192).
 */
public final class LargeImages {
    private LargeImages() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child(args[1], Integer.parseInt(args[2]));
            return;
        }
        String preset = args.length > 0 ? args[0] : "bagnet33";
        String heap = args.length > 1 ? args[1] : "512m";
        List<String> sizes = args.length > 2 ? List.of(args).subList(2, args.length) : List.of("1024", "4096", "8192");
        System.out.printf("%s, streamed, scores + 10 best patches of 10 classes, -Xmx%s, %d threads%n%n", preset,
                heap, Runtime.getRuntime().availableProcessors());
        System.out.println("| image | result | seconds | s per megapixel | tile | peak heap (MB) | weights (MB) |");
        System.out.println("|---|---|---|---|---|---|---|");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (String size : sizes) {
            List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "-Xmx" + heap, "-cp", System.getProperty("java.class.path"), LargeImages.class.getName(),
                    "--child", preset, size));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String row = null;
            StringBuilder log = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("|")) {
                        row = line;
                    } else {
                        log.append(line).append('\n');
                    }
                }
            }
            int code = p.waitFor();
            System.out.println(row != null && code == 0 ? row : String.format("| %sx%s | failed (exit %d): %s | | | | "
                    + "| |", size, size, code, log.toString().lines().filter(l -> l.contains("Error")
                    || l.contains("Exception")).findFirst().orElse("?")));
        }
    }

    private static void child(String preset, int size) {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset(preset), 1,
                Runtime.getRuntime().availableProcessors());
        System.gc();
        long weights = usedHeap();
        List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(pool -> pool.getType() == MemoryType.HEAP).toList();
        pools.forEach(MemoryPoolMXBean::resetPeakUsage);
        int[] classes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        long start = System.nanoTime();
        StreamResult result = model.stream(new Synthetic(size, size), new StreamRequest().classes(classes)
                .topPatches(10));
        double seconds = (System.nanoTime() - start) / 1e9;
        long peak = pools.stream().mapToLong(pool -> pool.getPeakUsage().getUsed()).sum();
        System.out.printf(Locale.ROOT, "| %dx%d | ok, grid %dx%d | %.1f | %.2f | %d px | %d | %d |%n", size, size,
                result.gridHeight(), result.gridWidth(), seconds, seconds / (size * (double) size / 1e6),
                result.tileSize(), peak >> 20, weights >> 20);
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** A smooth pattern with fine noise, computed for each region read: an image of any size in no memory. */
    private record Synthetic(int width, int height) implements ImageSource {
        @Override
        public int channels() {
            return 3;
        }

        @Override
        public void read(int x, int y, int w, int h, float[] dst) {
            for (int row = 0; row < h; row++) {
                for (int col = 0; col < w; col++) {
                    int px = x + col;
                    int py = y + row;
                    int hash = (px * 73856093) ^ (py * 19349663);
                    for (int c = 0; c < 3; c++) {
                        dst[(row * w + col) * 3 + c] = (float) (Math.sin(px * 0.011 + 2 * c) * Math.cos(py * 0.007)
                                + ((hash >>> (8 * c)) & 0xff) / 512.0 - 0.25);
                    }
                }
            }
        }
    }
}
