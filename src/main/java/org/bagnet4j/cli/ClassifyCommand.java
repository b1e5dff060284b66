package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.Prediction;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.StreamRequest;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.ImageSource;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;

/**
 * {@code classify}: the top-K classes of image files. Unreadable files are reported one per line and skipped;
 * images are run in batches of equal size; with many images at batch 1, one image per thread on the shared model.
 */
final class ClassifyCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("json", "no-resize");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("model", "top", "json", "batch", "threads", "resize", "crop", "no-resize",
            "max-pixels", "alpha-background");
    /** Most images per forward pass: beyond this a batch only costs memory. */
    static final int MAX_BATCH = 4096;

    /**
     * One image's input (null when the image is read from its file as it is evaluated), or why it has none; and a
     * warning about it, or null.
     */
    private record Item(Path file, Tensor input, double preprocessMs, String error, String warning) {
        /** Whether the image is read from its file band by band as it is evaluated, see {@link #streamsFromFile}. */
        boolean fromFile() {
            return input == null && error == null;
        }
    }

    private ClassifyCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        if (options.positional().isEmpty()) {
            throw new UsageException("classify needs at least one image or folder");
        }
        int top = options.intValue("top", 5, 1, Integer.MAX_VALUE);
        int batch = options.intValue("batch", 1, 1, MAX_BATCH);
        int threads = options.threads();
        ImageReading reading = ImageReading.of(options);
        boolean json = options.has("json");
        List<String> failures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Path> files = collect(options.positional(), failures, notes);
        // Many single images: one job per thread on the shared model (each thread with its own workspace), 5.5%
        // more images/s than splitting every convolution at 2 threads; batches of several images are split instead,
        // 3.5% more at batch 8 (benchmarks' Throughput, the table in README's "Many images").
        int jobs = threads > 1 && batch == 1 && files.size() >= 2L * threads ? threads : 1;
        Model model = ModelChoice.load(options, jobs > 1 ? 1 : threads, err);
        Preprocessing prep = sizing(options, model, err);
        int topK = Math.min(top, model.architecture().numClasses());

        Progress progress = new Progress(err, files.size(), Progress.wanted(files.size()));
        LargeImages large = new LargeImages(err, jobs == 1 && Progress.stderrIsTerminal());
        notes.forEach(n -> progress.println("bagnet4j: " + n));
        failures.forEach(f -> progress.println("bagnet4j: " + f));
        List<Supplier<Batch>> batches = new ArrayList<>();
        for (int start = 0; start < files.size(); start += batch) {
            List<Path> group = files.subList(start, Math.min(files.size(), start + batch));
            batches.add(() -> classify(model, group, prep, reading, large, topK, json));
        }
        int failed = failures.size();
        int done = 0;
        ExecutorService pool = jobs > 1 ? Executors.newFixedThreadPool(jobs, Thread.ofPlatform().daemon()
                .factory()) : null;
        try {
            // With a pool every batch is queued at once; alone, each runs when its turn to print comes.
            List<CompletableFuture<Batch>> queued = pool == null ? List.of()
                    : batches.stream().map(b -> CompletableFuture.supplyAsync(b, pool)).toList();
            for (int i = 0; i < batches.size(); i++) {
                Batch b = pool == null ? batches.get(i).get() : await(queued.get(i));
                b.messages().forEach(m -> progress.println("bagnet4j: " + m));
                out.print(b.output());
                out.flush();
                failed += b.failed();
                done += b.images();
                progress.update(done, "images");
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
        return failed > 0 ? 1 : 0;
    }

    /** A queued batch's result, its failure rethrown as it was thrown. */
    private static Batch await(CompletableFuture<Batch> batch) {
        try {
            return batch.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    /** One batch's printed results, its messages for stderr, and how many of its images failed. */
    private record Batch(int images, String output, List<String> messages, int failed) {
    }

    /** Decodes a batch of files and classifies them, in groups of equal size. */
    private static Batch classify(Model model, List<Path> files, Preprocessing prep, ImageReading reading,
            LargeImages large, int top, boolean json) {
        List<Item> items = new ArrayList<>();
        for (Path file : files) {
            items.add(streamsFromFile(model, file, prep, reading, large) ? new Item(file, null, 0, null, null)
                    : prepare(file, prep, reading));
        }
        List<String> messages = new ArrayList<>();
        StringBuilder output = new StringBuilder();
        int failed = (int) items.stream().filter(i -> i.error() != null).count();
        for (List<Item> group : groupBySize(items, messages)) {
            failed += classifyGroup(model, group, reading, large, top, json, output, messages);
        }
        return new Batch(files.size(), output.toString(), messages, failed);
    }

    /** The model's image preprocessing; warns about a guessed one, refuses a model that has none. */
    static Preprocessing requirePreprocessing(Model model, PrintStream err) {
        model.warnings().forEach(w -> err.println("bagnet4j: warning: " + w));
        if (model.preprocessing() == null) {
            throw new BagNetException(model.architecture().name() + " cannot take images: its file has no "
                    + "preprocessing (use the run command with tensors)");
        }
        return model.preprocessing();
    }

    /**
     * The model's preprocessing with the sizes --resize, --crop and --no-resize ask for, refused when it would
     * make inputs smaller than the model takes.
     */
    static Preprocessing sizing(Options options, Model model, PrintStream err) {
        Preprocessing base = requirePreprocessing(model, err);
        if (options.has("no-resize")) {
            if (options.has("resize") || options.has("crop")) {
                throw new UsageException("--no-resize cannot be combined with --resize or --crop");
            }
            return base.withSize(0, 0);
        }
        Preprocessing sized = base.withSize(options.intValue("resize", base.resize(), 1, Preprocessing.MAX_SIZE),
                options.intValue("crop", base.crop(), 1, Preprocessing.MAX_SIZE));
        int side = sized.crop() > 0 ? sized.crop() : sized.resize(); // the shorter side, before padding
        int min = model.minInputSize();
        if (side > 0 && side + 2 * sized.pad() < min) {
            throw new UsageException(String.format(Locale.ROOT, "resize %d, crop %d%s make inputs of %dx%d pixels, "
                    + "smaller than the %dx%d that %s takes at least; give a larger --resize and --crop",
                    sized.resize(), sized.crop(), sized.pad() > 0 ? " and pad " + sized.pad() : "",
                    side + 2 * sized.pad(), side + 2 * sized.pad(), min, min, model.architecture().name()));
        }
        return sized;
    }

    /**
     * Files as given, folders searched recursively for image files, in name order, leaving out the folders
     * bagnet4j wrote its outputs to (said in {@code notes}). What cannot be read (a missing file, an unreadable
     * subfolder) goes to {@code failures}, one line each, and the rest is still collected.
     */
    static List<Path> collect(List<String> args, List<String> failures, List<String> notes) {
        List<Path> files = new ArrayList<>();
        for (String arg : args) {
            Path path = ArgumentPath.of(arg);
            if (Files.isDirectory(path)) {
                List<Path> found = new ArrayList<>();
                walk(path, found, failures, notes);
                if (found.isEmpty()) {
                    failures.add(arg + ": no images (" + String.join(", ", ImageDecoder.EXTENSIONS) + ") in this folder");
                }
                files.addAll(found.stream().sorted().toList());
            } else if (Files.exists(path)) {
                files.add(path);
            } else {
                failures.add(arg + ": file not found");
            }
        }
        return files;
    }

    /** Image files under {@code folder}; a subfolder that cannot be listed is reported and skipped. */
    private static void walk(Path folder, List<Path> found, List<String> failures, List<String> notes) {
        try {
            Files.walkFileTree(folder, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                    if (!dir.equals(folder) && OutputFolder.isMarked(dir)) {
                        notes.add(dir + ": skipped, bagnet4j's outputs (give it by name to include it)");
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    boolean regular = attributes.isRegularFile()
                            || attributes.isSymbolicLink() && Files.isRegularFile(file);
                    if (regular && ImageDecoder.hasImageName(file)) {
                        found.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    failures.add(file + ": cannot read (" + BagNetException.reason(e) + "); skipped");
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                    if (e != null) {
                        failures.add(dir + ": cannot list all of this folder (" + BagNetException.reason(e) + ")");
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            failures.add(folder + ": cannot list folder (" + BagNetException.reason(e) + ")");
        }
    }

    /**
     * Whether an image is read from its file band by band as it is evaluated, never decoded whole: a BagNet's input
     * with --no-resize that is too large to run whole (the file's header tells its size) and within the pixel limit
     * once padded, in an upright file (an EXIF-rotated JPEG cannot be read by regions). Anything else is left to
     * the whole decoding, which says what is wrong.
     */
    private static boolean streamsFromFile(Model model, Path file, Preprocessing prep, ImageReading reading,
            LargeImages large) {
        if (!(model instanceof BagNet) || prep.resize() != 0 || prep.crop() != 0) {
            return false;
        }
        try (ImageDecoder.Regions header = ImageDecoder.openRegions(file, reading.maxPixels())) {
            long border = 2L * prep.pad();
            long height = header.height() + border;
            long width = header.width() + border;
            return header.upright() && height * width <= reading.maxPixels()
                    && Math.max(height, width) < Integer.MAX_VALUE
                    && !large.runsWhole(model, 1, (int) height, (int) width, file.toString());
        } catch (BagNetException e) {
            return false;
        }
    }

    private static Item prepare(Path file, Preprocessing prep, ImageReading reading) {
        long start = System.nanoTime();
        String[] warning = new String[1];
        try {
            Tensor input = input(file, prep, reading, w -> warning[0] = w);
            return new Item(file, input, (System.nanoTime() - start) / 1e6, null, warning[0]);
        } catch (BagNetException e) {
            return new Item(file, null, 0, e.getMessage(), warning[0]);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return new Item(file, null, 0, file + ": " + problem(e), warning[0]);
        }
    }

    /** What went wrong with one image, in a line. */
    static String problem(Throwable e) {
        return switch (e) {
            case BagNetException b -> b.getMessage();
            case OutOfMemoryError m -> "out of memory; give java more heap (-Xmx)";
            default -> Commands.unexpected(e);
        };
    }

    /** The file decoded and preprocessed; every problem is a BagNetException naming the file. */
    static Tensor input(Path file, Preprocessing prep, ImageReading reading, Consumer<String> warnings) {
        RgbImage image = reading.read(file, warnings);
        try {
            return prep.apply(image, reading.maxPixels());
        } catch (BagNetException e) {
            throw new BagNetException(file + ": " + e.getMessage());
        }
    }

    /** Readable items grouped by input size (consecutive runs), failures reported. */
    private static List<List<Item>> groupBySize(List<Item> items, List<String> messages) {
        List<List<Item>> groups = new ArrayList<>();
        for (Item item : items) {
            if (item.warning() != null) {
                messages.add(item.warning());
            }
            if (item.error() != null) {
                messages.add(item.error());
                continue;
            }
            List<Item> last = groups.isEmpty() ? null : groups.getLast();
            if (last != null && !item.fromFile() && !last.getFirst().fromFile()
                    && last.getFirst().input().height() == item.input().height()
                    && last.getFirst().input().width() == item.input().width()) {
                last.add(item);
            } else {
                groups.add(new ArrayList<>(List.of(item)));
            }
        }
        return groups;
    }

    /** Runs one batch (again image by image if it fails); returns how many of its images failed. */
    private static int classifyGroup(Model model, List<Item> group, ImageReading reading, LargeImages large, int top,
            boolean json, StringBuilder out, List<String> messages) {
        long start = System.nanoTime();
        float[][] scores;
        Path first = group.getFirst().file();
        String name = first.toString();
        try {
            if (group.getFirst().fromFile()) {
                BagNet bagNet = (BagNet) model;
                try (ImageSource source = bagNet.imageSource(first, reading.maxPixels(), reading.alphaBackground())) {
                    scores = new float[][] {bagNet.stream(source, new StreamRequest().maxPixels(reading.maxPixels())
                            .progress(large.progress(name))).scores()};
                    reading.warnIfTransparent(first, source.transparent(), messages::add);
                }
            } else {
                Tensor input = Tensor.concat(group.stream().map(Item::input).toList());
                // A single image too large to run whole is streamed here, as classScores would, to show progress.
                scores = model instanceof BagNet bagNet && group.size() == 1 && !large.runsWhole(model, input, name)
                        ? new float[][] {bagNet.stream(input, new StreamRequest().progress(large.progress(name)))
                                .scores()}
                        : model.classScores(input);
            }
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            if (group.size() == 1) {
                messages.add(group.getFirst().file() + ": " + problem(e));
                return 1;
            }
            // Image by image, so that one image's failure stays its own.
            int failed = 0;
            for (Item item : group) {
                failed += classifyGroup(model, List.of(item), reading, large, top, json, out, messages);
            }
            return failed;
        }
        double forwardMs = (System.nanoTime() - start) / 1e6 / group.size();
        for (int n = 0; n < group.size(); n++) {
            Item item = group.get(n);
            List<Prediction> ranked = Prediction.top(scores[n], model.labels(), top);
            double ms = item.preprocessMs() + forwardMs;
            out.append(json ? toJson(item.file(), ranked, ms) : toText(item.file(), ranked));
        }
        return 0;
    }

    private static String toText(Path file, List<Prediction> ranked) {
        StringBuilder sb = new StringBuilder(printable(file.toString())).append('\n');
        for (int i = 0; i < ranked.size(); i++) {
            Prediction p = ranked.get(i);
            sb.append(String.format(Locale.ROOT, "  %2d. %-32s %6.2f%%  logit %8.3f  (class %d)%n", i + 1,
                    printable(p.label()), 100 * p.probability(), p.logit(), p.index()));
        }
        return sb.toString();
    }

    static String toJson(Path file, List<Prediction> ranked, double ms) {
        return Prediction.toJson(file.toString(), ranked, ms) + System.lineSeparator();
    }
}
