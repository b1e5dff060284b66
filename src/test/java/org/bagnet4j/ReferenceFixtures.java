package org.bagnet4j;

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
import java.util.concurrent.TimeUnit;

import org.bagnet4j.tensor.Npy;

/**
 * PyTorch reference outputs, made on first use by weights-converter/make_reference.py and converted with
 * weights-converter/convert.py (Debian's python3-torch), then cached under target/reference until the scripts
 * change.
 */
public final class ReferenceFixtures {
    public static final List<String> PRESETS = List.of("bagnet9", "bagnet17", "bagnet33");
    private static final Path SCRIPTS = Path.of("weights-converter");
    private static final Path PHOTOS = Path.of("src", "test", "resources", "photos");
    /** A 4:4:0 JPEG of chelsea.png, written by ImageIO (PIL cannot write 4:4:0). */
    private static final Path JPEG_440 = Path.of("src", "test", "resources", "encodings", "chelsea-440.jpg");
    private static final List<String> CHECKPOINTS =
            List.of("tiny", "tiny_wrapped", "tiny_zip", "bagnet9", "bagnet17", "bagnet33");
    /** torchvision models with reference outputs, made by weights-converter/make_cnn_reference.py. */
    public static final List<String> CNNS = List.of("resnet18", "resnet50", "resnet152", "wide_resnet50_2", "vgg16",
            "vgg16_bn", "densenet121", "densenet169");
    private static final FixtureSet BAGNETS = new FixtureSet("",
            scripts("bagnet_torch.py", "make_reference.py", "convert.py", "checkpoint_guard.py",
                    "torchvision_families.py", "reference_images.py", "reference_classify.py", "reference_heatmap.py"),
            dir -> {
                for (List<String> step : steps(dir)) {
                    exec(step);
                }
            });
    /**
     * The torchvision fixtures: a directory of their own (with their own stamp), so that BagNet-only script
     * changes do not remake them, and the reverse.
     */
    private static final FixtureSet CNN_SET = new FixtureSet("-cnn",
            scripts("torchvision_families.py", "make_cnn_reference.py", "convert.py", "checkpoint_guard.py",
                    "bagnet_torch.py"),
            dir -> {
                exec(script("make_cnn_reference.py", concat(List.of(dir.toString()), CNNS)));
                for (String name : CNNS) {
                    Path checkpoint = dir.resolve(name + ".pth");
                    exec(script("convert.py", checkpoint.toString(), dir.resolve(name + ".safetensors").toString()));
                    // vgg16's checkpoint is kept for the large-checkpoint memory test; vgg16_bn's is not needed.
                    if (name.equals("vgg16_bn")) {
                        Files.delete(checkpoint);
                    }
                }
            });

    /** More encodings and torchvision's Normalize of every byte: their own directory, made in seconds. */
    private static final FixtureSet ENCODINGS = new FixtureSet("-encodings",
            scripts("reference_encodings.py", "reference_images.py"),
            dir -> exec(script("reference_encodings.py", dir.toString(), photos().getFirst().toString(),
                    JPEG_440.toString())));

    /**
     * PyTorch checkpoints of both serializations with the tensors a reader must find in them, and hostile ones:
     * made by reference_checkpoints.py in a second, for bagnet4j's own checkpoint reader.
     */
    private static final FixtureSet CHECKPOINT_SET = new FixtureSet("-checkpoints",
            scripts("reference_checkpoints.py"),
            dir -> exec(script("reference_checkpoints.py", dir.toString())));

    /** The Fashion-MNIST models in the jar (weights-converter/fashion/train.py); q = 13 is the embedded one. */
    public static final List<String> FASHION_MODELS = List.of("fashion-mnist-resnet", "fashion-mnist-vgg",
            "fashion-mnist-bagnet-q5", "fashion-mnist-bagnet-q9", "fashion-mnist-bagnet", "fashion-mnist-bagnet-q33");
    /** Test images with PyTorch's float64 scores for each Fashion-MNIST model (it predicts all 10,000). */
    public static final int FASHION_IMAGES = 300;
    private static final Path FASHION_MODEL_DIR = Path.of("src", "main", "resources", "org", "bagnet4j", "models");

    /** PyTorch's float64 results for the shipped Fashion-MNIST models: remade when a model or a script changes. */
    private static final FixtureSet FASHION = new FixtureSet("-fashion",
            concat(scripts("fashion/reference_models.py", "fashion/train.py", "convert.py", "torchvision_families.py",
                    "bagnet_torch.py"), FASHION_MODELS.stream().map(ReferenceFixtures::fashionModel).toList()),
            dir -> exec(script("fashion/reference_models.py", concat(List.of(dir.toString(),
                    Integer.toString(FASHION_IMAGES)), FASHION_MODELS.stream()
                    .map(m -> fashionModel(m).toString()).toList()))));

    /** The CNNs the comparison reference measures: the shipped ones (the ResNet has a class activation map). */
    private static final List<Path> COMPARE_TARGETS = List.of(fashionModel("fashion-mnist-resnet"),
            fashionModel("fashion-mnist-vgg"));
    private static final List<Path> COMPARE_BAGNETS = List.of(fashionModel("fashion-mnist-bagnet"));

    /**
     * PyTorch's run of the comparison measurements (org.bagnet4j.compare) on Fashion-MNIST test images, in float64:
     * report.json (see compare_reference.py). Remade when the models change too.
     */
    private static final FixtureSet COMPARE_SET = new FixtureSet("-compare",
            concat(scripts("compare_reference.py", "bagnet_torch.py", "torchvision_families.py"),
                    concat(COMPARE_TARGETS, COMPARE_BAGNETS)),
            dir -> {
                List<String> args = new ArrayList<>(List.of(dir.toString()));
                COMPARE_TARGETS.forEach(t -> args.addAll(List.of("--target", t.toString())));
                COMPARE_BAGNETS.forEach(b -> args.addAll(List.of("--bagnet", b.toString())));
                exec(script("compare_reference.py", args));
            });

    private ReferenceFixtures() {
    }

    public static String python() {
        return System.getProperty("bagnet4j.python", "/usr/bin/python3");
    }

    /** The fixture directory, generated if missing or stale. */
    public static Path dir() {
        return BAGNETS.get();
    }

    /** The torchvision fixture directory, generated if missing or stale. */
    public static Path cnnDir() {
        return CNN_SET.get();
    }

    /** Writes a set's fixtures into a directory. */
    private interface Maker {
        void make(Path dir) throws IOException;
    }

    /**
     * A directory of fixtures, made by its scripts on first use and again whenever they or the other files they
     * read change (a stamp holds their hash); a failure is remembered, so that every test needing the set says why.
     */
    private static final class FixtureSet {
        private final String suffix;
        private final List<Path> inputs;
        private final Maker maker;
        private Path ready;
        private IllegalStateException failure;

        FixtureSet(String suffix, List<Path> inputs, Maker maker) {
            this.suffix = suffix;
            this.inputs = inputs;
            this.maker = maker;
        }

        synchronized Path get() {
            if (ready != null) {
                return ready;
            }
            if (failure != null) {
                throw failure;
            }
            Path dir = Path.of(System.getProperty("bagnet4j.reference.dir", "target/reference") + suffix);
            try {
                String stamp = hash(inputs);
                Path stampFile = dir.resolve("stamp");
                if (!Files.exists(stampFile) || !Files.readString(stampFile).equals(stamp)) {
                    Files.createDirectories(dir);
                    Files.deleteIfExists(stampFile);
                    maker.make(dir);
                    Files.writeString(stampFile, stamp);
                }
            } catch (IOException | RuntimeException e) {
                failure = new IllegalStateException("cannot make reference fixtures in " + dir + ": "
                        + e.getMessage(), e);
                throw failure;
            }
            ready = dir;
            return dir;
        }
    }

    /** A torchvision fixture file, e.g. resnet50.safetensors or resnet50_info.json. */
    public static Path cnnFile(String name) {
        return cnnDir().resolve(name);
    }

    public static Npy.Array cnnArray(String name) {
        return Npy.read(cnnDir().resolve(name + ".npy"));
    }

    /** The scripts that make the fixtures, in order. */
    private static List<List<String>> steps(Path dir) {
        List<List<String>> steps = new ArrayList<>();
        steps.add(script("make_reference.py", dir.toString()));
        for (String name : CHECKPOINTS) {
            steps.add(script("convert.py", dir.resolve(name + ".pth.tar").toString(),
                    dir.resolve(name + ".safetensors").toString()));
        }
        List<String> photos = photos().stream().map(Path::toString).toList();
        steps.add(script("reference_images.py", concat(List.of(dir.resolve("images").toString()), photos)));
        steps.add(script("reference_classify.py", concat(List.of(dir.resolve("bagnet33.pth.tar").toString(),
                dir.resolve("classify_bagnet33.npy").toString()), photos)));
        steps.add(script("reference_heatmap.py", dir.resolve("bagnet9.pth.tar").toString(), photos.getFirst(),
                dir.resolve("heatmap-bagnet9").toString()));
        return steps;
    }

    private static List<Path> scripts(String... names) {
        return Arrays.stream(names).map(SCRIPTS::resolve).toList();
    }

    private static List<String> script(String name, String... args) {
        return script(name, List.of(args));
    }

    private static List<String> script(String name, List<String> args) {
        return concat(List.of(python(), SCRIPTS.resolve(name).toString()), args);
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The committed test photos, in name order (chelsea.png first: the variants are made from it). */
    public static List<Path> photos() {
        try (var files = Files.list(PHOTOS)) {
            return files.filter(p -> !p.getFileName().toString().endsWith(".md")).sorted((a, b) -> {
                boolean aFirst = a.getFileName().toString().startsWith("chelsea");
                boolean bFirst = b.getFileName().toString().startsWith("chelsea");
                return aFirst != bFirst ? (aFirst ? -1 : 1) : a.compareTo(b);
            }).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reference images and their torchvision tensors, made by weights-converter/reference_images.py. */
    public static Path images() {
        return dir().resolve("images");
    }

    /** More encodings with their torchvision tensors, and normalize_imagenet.npy: reference_encodings.py. */
    public static Path encodings() {
        return ENCODINGS.get();
    }

    /** The comparison reference's directory: report.json, and the targets it made. */
    public static Path compare() {
        return COMPARE_SET.get();
    }

    /** Checkpoints X.pth with their expected tensors in X.expected/: see README.txt there. */
    public static Path checkpoints() {
        return CHECKPOINT_SET.get();
    }

    /** A Fashion-MNIST model file in the sources, e.g. fashion-mnist-resnet.safetensors. */
    public static Path fashionModel(String name) {
        return FASHION_MODEL_DIR.resolve(name + ".safetensors");
    }

    /** PyTorch's float64 scores [FASHION_IMAGES, 10] of a Fashion-MNIST model on the first test images. */
    public static Npy.Array fashionScores(String name) {
        return Npy.read(FASHION.get().resolve(name + ".npy"));
    }

    /** PyTorch's (float32) predictions of a Fashion-MNIST model on the 10,000 test images, one digit each. */
    public static String fashionPredictions(String name) throws IOException {
        return Files.readString(FASHION.get().resolve(name + "-predictions.txt")).strip();
    }

    public static Path model(String name) {
        return dir().resolve(name + ".safetensors");
    }

    public static Path file(String name) {
        return dir().resolve(name);
    }

    public static Npy.Array array(String name) {
        return Npy.read(dir().resolve(name + ".npy"));
    }

    private static String hash(List<Path> inputs) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Path input : inputs) {
                digest.update(Files.readAllBytes(input));
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs a command, failing with its output when it fails. */
    public static String exec(List<String> command) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed"
                        + (output.contains("No module named")
                                ? " (needs Debian's python3-torch, python3-torchvision, python3-numpy and python3-pil)"
                                : "") + ":\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }
}
