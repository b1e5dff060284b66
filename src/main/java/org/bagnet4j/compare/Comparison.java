package org.bagnet4j.compare;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Cnn;
import org.bagnet4j.Model;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.explain.ProgressListener;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;

/**
 * The paper's four signatures of a bag-of-local-features model, measured on labelled images for several models at
 * once: {@link Shuffling}, {@link Interactions} and {@link Errors} for every model, {@link Sensitivity} for each
 * target model, ranked by each BagNet's heatmap and by the target's own maps. All models must read the images at
 * one input size (their preprocessing makes it) and know the data's classes. Images are measured on several
 * threads and summed in image order, so results do not depend on the thread count.
 */
public final class Comparison {
    /** A model and the name reports give it. */
    public record Entry(String name, Model model) {
    }

    /**
     * What to measure; sizes left 0 or null take the defaults for the input size ({@link #resolved}).
     *
     * @param seed the base seed; shuffling uses seeds seed .. seed + shuffleSeeds - 1, the rest seed itself
     * @param sides occluder sides for interactions, in pixels of the model input; null: 1/8 and 1/4 of the
     *     input's shorter side
     * @param gaps gaps between the two occluders, in pixels; null: 0 to 3/4 of the shorter side
     * @param patch the side of the sensitivity grid's patches; 0: an eighth of the shorter side (an 8 x 8 grid)
     * @param k how many patches sensitivity occludes at most
     */
    public record Settings(long seed, int shuffleSeeds, int[] sides, int[] gaps, int patch, int k) {
        /** The most seeds, sides, gaps and k: each multiplies the passes per image. */
        public static final int MAX_SEEDS = 100;
        public static final int MAX_SIDES = 16;
        public static final int MAX_GAPS = 64;
        public static final int MAX_K = 256;
        /** The most pixels a side or gap may have (so that streams of distinct pairs never meet). */
        public static final int MAX_PIXELS = 999;
        /** The largest seed: seed + shuffleSeeds stays a seed. */
        public static final long MAX_SEED = 1L << 48;
        /** 3 shuffling seeds, 16 patches occluded, every size in proportion to the input. */
        public static final Settings DEFAULT = new Settings(0, 3, null, null, 0, 16);

        public Settings {
            sides = sides == null ? null : sides.clone();
            gaps = gaps == null ? null : gaps.clone();
            if (seed < 0 || seed > MAX_SEED || shuffleSeeds < 1 || shuffleSeeds > MAX_SEEDS || patch < 0
                    || patch > MAX_PIXELS || k < 1 || k > MAX_K
                    || sides != null && (sides.length == 0 || sides.length > MAX_SIDES
                            || Arrays.stream(sides).anyMatch(v -> v < 1 || v > MAX_PIXELS))
                    || gaps != null && (gaps.length == 0 || gaps.length > MAX_GAPS
                            || Arrays.stream(gaps).anyMatch(v -> v < 0 || v > MAX_PIXELS))) {
                throw new BagNetException("comparison settings out of range: " + this);
            }
        }

        /** These settings with every size given, the defaults taken for an input of this size. */
        public Settings resolved(int height, int width) {
            int s = Math.min(height, width);
            int[] defaultGaps = IntStream.of(0, 1, 2, 4, 6, 8, 12).map(n -> Math.min(MAX_PIXELS, n * s / 16))
                    .distinct().toArray();
            int[] defaultSides = IntStream.of(s / 8, s / 4).map(v -> Math.min(MAX_PIXELS, Math.max(1, v)))
                    .distinct().toArray();
            return new Settings(seed, shuffleSeeds, sides != null ? sides : defaultSides,
                    gaps != null ? gaps : defaultGaps, patch > 0 ? patch : Math.min(MAX_PIXELS, Math.max(1, s / 8)), k);
        }

        @Override
        public int[] sides() {
            return sides == null ? null : sides.clone();
        }

        @Override
        public int[] gaps() {
            return gaps == null ? null : gaps.clone();
        }

        @Override
        public String toString() {
            return "seed " + seed + ", " + shuffleSeeds + " shuffling seeds, sides " + Arrays.toString(sides)
                    + ", gaps " + Arrays.toString(gaps) + ", patch " + patch + ", k " + k;
        }
    }

    /**
     * Everything measured. {@code receptiveFields} holds each BagNet's q, 0 for the other models;
     * {@code skipped} the reasons for the first 1000 of the {@code skippedCount} images that could not be measured;
     * {@code resumedAt} the images an earlier, interrupted run had measured (0 for a fresh run); {@code seconds} the
     * time each measurement took, summed over threads (and over the interrupted run).
     */
    public record Result(List<String> models, int[] receptiveFields, List<String> targets, int height, int width,
            Settings settings, int images, int skippedCount, List<String> skipped, int resumedAt,
            Shuffling.Result[] shuffling, Interactions.Result[] interactions,
            Errors.Result errors, Sensitivity.Result[] sensitivity, double[] seconds) {
        /** Names of the measurements, in the order of {@link #seconds}. */
        public static final List<String> MEASUREMENTS = List.of("errors", "shuffling", "interactions",
                "sensitivity");
    }

    /** Images between saves of the running sums. */
    private static final int SAVE_EVERY = 100;
    private final List<Entry> targets;
    private final List<Entry> bagnets;
    private final List<Entry> models;
    private final Settings settings;
    private final int threads;

    /**
     * @param targets the models whose sensitivity is measured (the CNNs); they are measured for the other
     *     signatures too
     * @param bagnets the BagNets whose heatmaps rank patches; measured for the other signatures too
     * @param settings what to measure, or null for {@link Settings#DEFAULT}
     * @param threads images measured at once (each model should then run with one thread per call)
     */
    public Comparison(List<Entry> targets, List<Entry> bagnets, Settings settings, int threads) {
        this.targets = List.copyOf(targets);
        this.bagnets = List.copyOf(bagnets);
        for (Entry b : bagnets) {
            if (!(b.model() instanceof BagNet)) {
                throw new BagNetException(b.name() + " is a " + b.model().architecture().family()
                        + ", not a BagNet: only a BagNet's heatmap ranks patches");
            }
        }
        List<Entry> all = new ArrayList<>(targets);
        all.addAll(bagnets);
        for (Entry e : all) {
            if (e.model().preprocessing() == null) {
                throw new BagNetException(e.name() + " does not say how to preprocess images (its file has no "
                        + "preprocessing metadata), so it cannot be compared on images");
            }
        }
        this.models = List.copyOf(all);
        if (all.stream().map(Entry::name).distinct().count() < all.size()) {
            throw new BagNetException("two models are named alike; reports need one name per model: "
                    + all.stream().map(Entry::name).toList());
        }
        if (models.isEmpty()) {
            throw new BagNetException("nothing to compare: give at least one model");
        }
        this.settings = settings != null ? settings : Settings.DEFAULT;
        this.threads = Math.max(1, threads);
    }

    /** Measures every image of {@code data}; images that cannot be read are skipped and listed. */
    public Result run(LabelledImages data, ProgressListener progress) {
        return run(data, progress, null, "");
    }

    /**
     * As {@link #run(LabelledImages, ProgressListener)}, saving the running sums to {@code stateFile} as it goes and
     * deleting it when done. A run that finds there the state of the same comparison (same {@code identity} of the
     * models, e.g. their files' names, sizes and dates; same settings and data) continues from it, with the same
     * results to the bit as one uninterrupted run.
     */
    public Result run(LabelledImages data, ProgressListener progress, Path stateFile, String identity) {
        Frame frame = frame(data);
        int classes = data.classNames().size();
        Supplier<RunState> fresh = () -> fresh(frame, classes);
        String fingerprint = fingerprint(identity, frame, data);
        RunState resumed = stateFile == null ? null : RunState.resume(fresh, stateFile, fingerprint, data.size());
        RunState state = resumed != null ? resumed : fresh.get();
        int resumedAt = state.next;
        ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().factory());
        try {
            // A window of images in flight: enough to keep every thread busy, few enough to bound memory.
            int window = 4 * threads;
            List<Future<ImageResult>> inFlight = new ArrayList<>();
            for (int i = state.next; i < data.size() || !inFlight.isEmpty(); ) {
                while (i < data.size() && inFlight.size() < window) {
                    int index = i++;
                    inFlight.add(pool.submit(() -> measure(data, index, frame)));
                }
                state.add(await(inFlight.removeFirst()));
                if (stateFile != null && state.next % SAVE_EVERY == 0) {
                    state.save(stateFile, fingerprint);
                }
                if (progress != null) {
                    progress.progress(state.next, data.size());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        if (state.measured == 0) {
            throw new BagNetException("no image could be measured; the first: " + state.skipped.getFirst());
        }
        if (stateFile != null) {
            try {
                Files.deleteIfExists(stateFile);
            } catch (IOException e) {
                throw new BagNetException("cannot delete " + stateFile + ": " + BagNetException.reason(e));
            }
        }
        return new Result(models.stream().map(Entry::name).toList(), models.stream()
                .mapToInt(e -> e.model() instanceof BagNet b ? b.receptiveField() : 0).toArray(),
                targets.stream().map(Entry::name).toList(), frame.height, frame.width, frame.settings, state.measured,
                state.skippedCount, List.copyOf(state.skipped), resumedAt,
                Arrays.stream(state.shuffling).map(Shuffling.Tally::result).toArray(Shuffling.Result[]::new),
                Arrays.stream(state.interactions).map(Interactions.Tally::result).toArray(Interactions.Result[]::new),
                state.errors.result(), Arrays.stream(state.sensitivity).map(Sensitivity.Tally::result)
                        .toArray(Sensitivity.Result[]::new), state.seconds.clone());
    }

    /**
     * What a saved state must match to be continued: the caller's identity of the models and data, the models'
     * names and roles, the settings, and every image's name and label (SHA-256, so that it stays short).
     */
    private String fingerprint(String identity, Frame frame, LabelledImages data) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        StringBuilder text = new StringBuilder(identity).append('\n').append(models.stream().map(Entry::name).toList())
                .append('\n').append(targets.stream().map(Entry::name).toList()).append('\n').append(frame.height)
                .append('x').append(frame.width).append('\n').append(frame.settings).append('\n');
        for (int i = 0; i < data.size(); i++) {
            text.append(data.name(i)).append('\t').append(data.label(i)).append('\n');
            if (text.length() > 1 << 16) {
                digest.update(text.toString().getBytes(StandardCharsets.UTF_8));
                text.setLength(0);
            }
        }
        digest.update(text.toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest.digest());
    }

    private RunState fresh(Frame frame, int classes) {
        Shuffling.Tally[] shuffling = new Shuffling.Tally[models.size()];
        Interactions.Tally[] interactions = new Interactions.Tally[models.size()];
        for (int m = 0; m < models.size(); m++) {
            shuffling[m] = new Shuffling.Tally(frame.grids);
            interactions[m] = new Interactions.Tally(frame.settings.sides(), frame.settings.gaps());
        }
        Sensitivity.Tally[] sensitivity = new Sensitivity.Tally[targets.size()];
        for (int t = 0; t < targets.size(); t++) {
            sensitivity[t] = new Sensitivity.Tally(targets.get(t).name(), frame.methods.get(t), frame.settings.k());
        }
        return new RunState(shuffling, interactions, new Errors.Tally(models.size(), classes), sensitivity);
    }

    /** The geometry every image must have, and what follows from it; checked on the first readable image. */
    private record Frame(int height, int width, Settings settings, int[] grids, Sensitivity.Grid grid,
            List<List<String>> methods) {
    }

    /**
     * Checks, without measuring, that the models can be compared on {@code data}: images to measure, the models'
     * classes, one input size, receptive fields that fit, and settings that fit the input; a one-line
     * BagNetException if not.
     */
    public void check(LabelledImages data) {
        frame(data);
    }

    private Frame frame(LabelledImages data) {
        if (data.size() == 0) {
            throw new BagNetException("no images to compare on");
        }
        int classes = data.classNames().size();
        for (Entry e : models) {
            int known = e.model().architecture().numClasses();
            if (known != classes) {
                throw new BagNetException(e.name() + " knows " + known + " classes but the data has " + classes);
            }
        }
        RgbImage first = null;
        for (int i = 0; i < data.size() && first == null; i++) {
            try {
                first = data.image(i);
            } catch (BagNetException e) {
                // measure() skips and reports it
            }
        }
        if (first == null) {
            throw new BagNetException("none of the " + data.size() + " images can be read; the first: "
                    + failure(data, 0));
        }
        Entry reference = models.getFirst();
        Tensor input = reference.model().preprocessing().apply(first);
        int h = input.height();
        int w = input.width();
        for (Entry e : models) {
            Tensor other = e.model().preprocessing().apply(first);
            if (other.height() != h || other.width() != w) {
                throw new BagNetException(e.name() + " reads images at " + other.width() + "x" + other.height() + " but "
                        + reference.name() + " at " + w + "x" + h + "; compare needs one input size");
            }
            if (!sameView(e.model().preprocessing(), reference.model().preprocessing())) {
                throw new BagNetException(e.name() + " resizes, crops or pads images differently from "
                        + reference.name() + " (" + view(e.model().preprocessing()) + " vs "
                        + view(reference.model().preprocessing()) + "); compare needs every model to see one view");
            }
            if (e.model().minInputSize() > Math.min(h, w)) {
                throw new BagNetException(e.name() + " needs inputs of at least " + e.model().minInputSize()
                        + " pixels a side (its receptive field), but the images are " + w + "x" + h);
            }
        }
        if (Math.min(h, w) < 2) {
            throw new BagNetException("inputs of " + w + "x" + h + " pixels are too small to compare (at least 2 a "
                    + "side)");
        }
        Settings s = settings.resolved(h, w);
        Sensitivity.Grid grid = Sensitivity.Grid.of(h, w, s.patch());
        if (grid.patches() == 0) {
            throw new BagNetException("patches of " + s.patch() + " pixels do not fit in " + w + "x" + h + " inputs");
        }
        if (s.k() > grid.patches()) {
            throw new BagNetException("k = " + s.k() + " is more than the " + grid.patches() + " patches of "
                    + s.patch() + " pixels in a " + w + "x" + h + " input");
        }
        List<String> bagnetNames = bagnets.stream().map(Entry::name).toList();
        List<List<String>> methods = targets.stream().map(t -> Sensitivity.methods(bagnetNames, t.model())).toList();
        return new Frame(h, w, s, Shuffling.grids(h, w), grid, methods);
    }

    private static boolean sameView(Preprocessing a, Preprocessing b) {
        return a.resize() == b.resize() && a.crop() == b.crop() && a.pad() == b.pad();
    }

    private static String view(Preprocessing p) {
        return "resize " + p.resize() + ", crop " + p.crop() + ", pad " + p.pad();
    }

    private static String failure(LabelledImages data, int index) {
        try {
            data.image(index);
            return data.name(index) + ": readable";
        } catch (BagNetException e) {
            return data.name(index) + ": " + e.getMessage();
        }
    }

    /** One image's measurements for every model, or why it was skipped. */
    record ImageResult(String failure, int label, float[][] clean, int[][][] shuffleTops,
            Interactions.Effects[][][] effects, Sensitivity.Curve[][] curves, double[] seconds) {
    }

    private ImageResult measure(LabelledImages data, int index, Frame frame) {
        int label = data.label(index);
        Tensor[] inputs = new Tensor[models.size()];
        try {
            RgbImage image = data.image(index);
            for (int m = 0; m < models.size(); m++) {
                inputs[m] = models.get(m).model().preprocessing().apply(image);
                if (inputs[m].height() != frame.height || inputs[m].width() != frame.width) {
                    return skip(data.name(index) + ": its input is " + inputs[m].width() + "x" + inputs[m].height()
                            + ", not " + frame.width + "x" + frame.height + " as the first image's");
                }
            }
        } catch (BagNetException e) {
            return skip(data.name(index) + ": " + e.getMessage());
        }
        try {
            return signatures(inputs, label, index, frame);
        } catch (BagNetException e) { // a model's failure is not the image's: it stops the run
            throw new BagNetException(data.name(index) + ": " + e.getMessage());
        }
    }

    /** Every measurement of one image, its inputs preprocessed for each model. */
    private ImageResult signatures(Tensor[] inputs, int label, int index, Frame frame) {
        Settings s = frame.settings;
        double[] seconds = new double[Result.MEASUREMENTS.size()];
        long start = System.nanoTime();
        float[][] clean = new float[models.size()][];
        for (int m = 0; m < models.size(); m++) {
            clean[m] = models.get(m).model().classScores(inputs[m])[0];
        }
        start = lap(seconds, 0, start);
        long[] seeds = LongStream.range(s.seed(), s.seed() + s.shuffleSeeds()).toArray();
        int[][][] tops = new int[models.size()][][];
        for (int m = 0; m < models.size(); m++) {
            tops[m] = Shuffling.topOnes(models.get(m).model(), inputs[m], frame.grids, seeds, index);
        }
        start = lap(seconds, 1, start);
        int[] sides = s.sides();
        int[] gaps = s.gaps();
        Interactions.Pair[][] pairs = new Interactions.Pair[sides.length][gaps.length];
        List<Interactions.Pair> fitting = new ArrayList<>();
        for (int a = 0; a < sides.length; a++) {
            for (int g = 0; g < gaps.length; g++) {
                if (Interactions.fits(frame.height, frame.width, sides[a], gaps[g])) {
                    pairs[a][g] = Interactions.draw(s.seed(), frame.height, frame.width, sides[a], gaps[g],
                            index);
                    fitting.add(pairs[a][g]);
                }
            }
        }
        Interactions.Effects[][][] effects = new Interactions.Effects[models.size()][][];
        for (int m = 0; m < models.size(); m++) {
            Interactions.Effects[] e = Interactions.effects(models.get(m).model(), inputs[m], label,
                    fitting.toArray(Interactions.Pair[]::new));
            effects[m] = new Interactions.Effects[pairs.length][pairs[0].length];
            int next = 0;
            for (int a = 0; a < pairs.length; a++) {
                for (int g = 0; g < pairs[a].length; g++) {
                    effects[m][a][g] = pairs[a][g] == null ? null : e[next++];
                }
            }
        }
        start = lap(seconds, 2, start);
        Sensitivity.Curve[][] curves = new Sensitivity.Curve[targets.size()][];
        double[][] heatmaps = new double[bagnets.size()][];
        for (int b = 0; b < bagnets.size(); b++) {
            heatmaps[b] = Sensitivity.heatmapImportance((BagNet) bagnets.get(b).model(), inputs[targets.size() + b],
                    label, frame.grid);
        }
        for (int t = 0; t < targets.size(); t++) {
            Model target = targets.get(t).model();
            List<String> methods = frame.methods.get(t);
            curves[t] = new Sensitivity.Curve[methods.size()];
            for (int m = 0; m < methods.size(); m++) {
                String method = methods.get(m);
                int[] order = m < bagnets.size() ? Sensitivity.order(heatmaps[m])
                        : switch (method) {
                            case Sensitivity.OCCLUSION -> Sensitivity.order(Sensitivity.occlusionImportance(target,
                                    inputs[t], label, frame.grid));
                            case Sensitivity.CAM -> Sensitivity.order(Sensitivity.camImportance((Cnn) target, inputs[t],
                                    label, frame.grid));
                            default -> Sensitivity.randomOrder(s.seed(), frame.grid.patches(), index);
                        };
                curves[t][m] = Sensitivity.curve(target, inputs[t], label, frame.grid, order, s.k());
            }
        }
        lap(seconds, 3, start);
        return new ImageResult(null, label, clean, tops, effects, curves, seconds);
    }

    private static long lap(double[] seconds, int measurement, long start) {
        long now = System.nanoTime();
        seconds[measurement] += (now - start) / 1e9;
        return now;
    }

    private static ImageResult skip(String why) {
        return new ImageResult(why, -1, null, null, null, null, null);
    }

    private static ImageResult await(Future<ImageResult> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case RuntimeException r -> throw r;
                case Error r -> throw r; // e.g. OutOfMemoryError, which the CLI answers with its advice
                default -> throw new IllegalStateException(e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BagNetException("interrupted");
        }
    }
}
