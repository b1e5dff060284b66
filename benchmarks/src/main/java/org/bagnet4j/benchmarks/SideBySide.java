package org.bagnet4j.benchmarks;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import org.bagnet4j.Model;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;

/**
 * The Java half of side-by-side.sh: times bagnet4j and ONNX Runtime on the files side_by_side.py wrote, checks
 * both against PyTorch's scores, and prints one table with PyTorch's timings from the same run. A ratio below 1
 * means bagnet4j is faster than that engine.
 * Usage: SideBySide WORK_DIR THREADS ITERS BATCH PRESET [PRESET ...] (times are per image of the batch)
 */
public final class SideBySide {
    /** Outputs agree when max |out - ref| <= TOLERANCE x max |ref|. */
    private static final double TOLERANCE = 1e-4;

    private SideBySide() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int iters = Integer.parseInt(args[2]);
        int batch = Integer.parseInt(args[3]);
        String pytorch = Files.readString(work.resolve("pytorch.json"));
        System.out.printf(Locale.ROOT, "224x224, batch %d, %d threads, median of %d runs after a warm-up%n%n", batch,
                threads, iters);
        try (OrtEnvironment env = OrtEnvironment.getEnvironment()) {
            System.out.println("| model | engine | ms per image | bagnet4j time / this time | agrees with PyTorch |");
            System.out.println("|---|---|---|---|---|");
            for (int i = 4; i < args.length; i++) {
                String preset = args[i];
                Npy.Array input = Npy.read(work.resolve(preset + "_input.npy"));
                float[] reference = Npy.read(work.resolve(preset + "_scores.npy")).data();
                int[] s = input.shape();

                Model model = Model.load(work.resolve(preset + ".safetensors"), threads);
                Tensor images = Tensor.fromNchw(input.data(), s[0], s[1], s[2], s[3]);
                double ours = medianMs(() -> flat(model.classScores(images)), iters) / batch;
                String oursAgree = agreement(flat(model.classScores(images)), reference);

                double ort;
                String ortAgree;
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                    options.setIntraOpNumThreads(threads);
                    options.setInterOpNumThreads(1);
                    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    try (OrtSession session = env.createSession(work.resolve(preset + ".onnx").toString(), options);
                            OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.data()),
                                    Arrays.stream(s).asLongStream().toArray())) {
                        Supplier<float[]> run = () -> runOnnx(session, x);
                        ort = medianMs(run, iters) / batch;
                        ortAgree = agreement(run.get(), reference);
                    }
                }
                double eager = pytorchMs(pytorch, preset, "eager_ms");
                double frozen = pytorchMs(pytorch, preset, "frozen_channels_last_ms");
                row(preset, "bagnet4j", ours, ours, oursAgree);
                row(preset, "ONNX Runtime Java " + env.getVersion(), ort, ours, ortAgree);
                row(preset, "PyTorch eager", eager, ours, "(reference)");
                row(preset, "PyTorch traced + frozen, channels_last", frozen, ours, "(reference)");
            }
        }
    }

    private static float[] runOnnx(OrtSession session, OnnxTensor x) {
        try (OrtSession.Result result = session.run(Map.of("images", x))) {
            return flat((float[][]) result.get(0).getValue());
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The rows of a batch's scores, one after another. */
    private static float[] flat(float[][] rows) {
        float[] all = new float[rows.length * rows[0].length];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, all, r * rows[0].length, rows[r].length);
        }
        return all;
    }

    /** Median of {@code iters} timed runs after a warm-up of at least 3 runs and 3 seconds (for the JIT). */
    private static double medianMs(Supplier<float[]> run, int iters) {
        long warmUntil = System.nanoTime() + 3_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) {
            run.get();
        }
        double[] ms = new double[iters];
        for (int i = 0; i < iters; i++) {
            long start = System.nanoTime();
            run.get();
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(ms);
        return ms[iters / 2];
    }

    private static String agreement(float[] out, float[] ref) {
        double maxRef = 0;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxDiff = Math.max(maxDiff, Math.abs(out[i] - ref[i]));
        }
        double relative = maxDiff / maxRef;
        return String.format(Locale.ROOT, "%s (%.1e)", relative <= TOLERANCE ? "yes" : "NO", relative);
    }

    private static double pytorchMs(String json, String preset, String key) {
        Matcher m = Pattern.compile("\"" + preset + "\": \\{[^}]*\"" + key + "\": ([0-9.eE+-]+)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("pytorch.json has no " + key + " for " + preset);
        }
        return Double.parseDouble(m.group(1));
    }

    private static void row(String preset, String engine, double ms, double ours, String agrees) {
        System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.2f | %s |%n", preset, engine, ms, ours / ms, agrees);
    }
}
