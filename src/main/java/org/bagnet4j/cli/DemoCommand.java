package org.bagnet4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Prediction;

/**
 * {@code demo}: the whole job with nothing to download. Classifies the sample images bundled in the jar (one
 * Fashion-MNIST test image per class, named after its true class) with the embedded model, explains each decision
 * (heatmaps, strongest patches) and writes the images, pictures and results to a folder.
 */
final class DemoCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("force");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("out", "threads", "force");
    static final String SAMPLES = "/org/bagnet4j/samples/";

    private DemoCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS).withoutArguments("demo");
        Path dir = OutputFolder.chosen(options, "demo");
        int threads = options.threads();
        OutputFolder.checkWritable(dir, List.of("results.jsonl", "samples", "explanations"), options.has("force"));
        OutputFolder.create(dir);
        err.println("bagnet4j: demo with the embedded " + BagNet.EMBEDDED_NAME);
        BagNet model = BagNet.embedded(threads);
        List<String> results = new ArrayList<>();
        int correct = 0;
        List<String> names = sampleNames();
        Path pictures = dir.resolve("explanations");
        for (String name : names) {
            Path image = dir.resolve("samples").resolve(name);
            copySample(name, image);
            long start = System.nanoTime();
            List<Prediction> top = model.classify(image, 3);
            double ms = (System.nanoTime() - start) / 1e6;
            ExplainCommand.explain(model, ExplainCommand.Input.of(image, model.preprocessing(),
                    ImageReading.DEFAULT, w -> { }), null, true, null, 4,
                    pictures.resolve(name.replaceFirst("\\.png$", "")),
                    new PrintStream(OutputStream.nullOutputStream()));
            int truth = Integer.parseInt(name.substring(0, name.indexOf('-')));
            boolean right = top.getFirst().index() == truth;
            correct += right ? 1 : 0;
            out.printf(Locale.ROOT, "%-24s %-12s -> %-12s %5.1f%%  %s%n", name, model.labels().name(truth),
                    top.getFirst().label(), 100 * top.getFirst().probability(), right ? "right" : "wrong");
            results.add(ClassifyCommand.toJson(image, top, ms));
        }
        Path jsonl = dir.resolve("results.jsonl");
        try {
            Files.writeString(jsonl, String.join("", results));
        } catch (IOException e) {
            throw new BagNetException("cannot write " + jsonl + ": " + BagNetException.reason(e));
        }
        out.printf(Locale.ROOT, "%d of %d samples classified correctly.%n  images:  %s%n  results: %s%n"
                + "  pictures (heatmaps of the evidence for the predicted class, strongest patches): %s%n", correct,
                names.size(), dir.resolve("samples"), jsonl, pictures);
        return 0;
    }

    static List<String> sampleNames() {
        try (InputStream in = DemoCommand.class.getResourceAsStream(SAMPLES + "index.txt")) {
            if (in == null) {
                throw new BagNetException("the sample images are missing from the bagnet4j jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new BagNetException("cannot read the sample list: " + BagNetException.reason(e));
        }
    }

    private static void copySample(String name, Path target) {
        try (InputStream in = DemoCommand.class.getResourceAsStream(SAMPLES + name)) {
            if (in == null) {
                throw new BagNetException("sample " + name + " is missing from the bagnet4j jar");
            }
            Files.createDirectories(target.getParent());
            Files.write(target, in.readAllBytes());
        } catch (IOException e) {
            throw new BagNetException("cannot write " + target + ": " + BagNetException.reason(e));
        }
    }
}
