package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.cli.CommandsTest.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.weights.Json;
import org.bagnet4j.weights.SafetensorsFile;
import org.bagnet4j.weights.SafetensorsWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compare on a folder of labelled images: its outputs, and one line for each kind of bad input. */
class CompareCommandTest {
    @TempDir
    Path dir;
    private Path model;
    private Path data;

    /** The embedded BagNet as a file, and the bundled samples in ImageFolder layout (folder "0-..." is class 0). */
    @BeforeEach
    void setUp() throws Exception {
        model = dir.resolve("bagnet.safetensors");
        try (var in = getClass().getResourceAsStream("/org/bagnet4j/models/fashion-mnist-bagnet.safetensors")) {
            Files.copy(in, model);
        }
        data = dir.resolve("data");
        for (String name : DemoCommand.sampleNames()) {
            Path classDir = Files.createDirectories(data.resolve(name.replace(".png", "")));
            ForkedCli.sample(name, classDir.resolve(name));
        }
    }

    @Test
    void writesReportsPlotsAndExamples() throws Exception {
        Path out = dir.resolve("out");
        CommandsTest.Result r = cli("compare", "--model", model.toString(), "--bagnet", model.toString(), "--k", "4",
                "--shuffle-seeds", "1", "--examples", "2", "--threads", "2", "--out", out.toString(), data.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("compared 2 models on 10 images in ");
        for (String file : List.of("report.md", "report.json", "shuffling.png", "interactions.png",
                "sensitivity-bagnet.png", "examples/000-0-t-shirt-top.png", "examples/001-1-trouser.png")) {
            assertThat(out.resolve(file)).isNotEmptyFile();
        }
        assertThat(out.resolve("examples/002-2-pullover.png")).doesNotExist();
        Map<?, ?> report = (Map<?, ?>) Json.parse(Files.readString(out.resolve("report.json")));
        assertThat(((Number) report.get("images")).intValue()).isEqualTo(10);
        assertThat(report.get("models")).isEqualTo(List.of("bagnet", "bagnet (2)"));
        assertThat(Files.readString(out.resolve("report.md"))).contains("## Shuffling", "## Interactions",
                "## Errors", "## Sensitivity", "| occlusion |");
    }

    /** Without models, the embedded CNNs against the embedded BagNets, on Fashion-MNIST or the samples (said). */
    @Test
    void withoutModelsComparesTheEmbeddedOnes() throws Exception {
        Path out = dir.resolve("out");
        CommandsTest.Result r = cli("compare", "--limit", "3", "--k", "2", "--shuffle-seeds", "1", "--examples", "0",
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("comparing the embedded Fashion-MNIST CNNs with the embedded BagNets")
                .containsAnyOf("using Fashion-MNIST's test set", "using the 10 sample images bundled");
        Map<?, ?> report = (Map<?, ?>) Json.parse(Files.readString(out.resolve("report.json")));
        assertThat(report.get("models")).isEqualTo(List.of("fashion-mnist-resnet", "fashion-mnist-vgg",
                "fashion-mnist-bagnet", "fashion-mnist-bagnet-q5", "fashion-mnist-bagnet-q9",
                "fashion-mnist-bagnet-q33"));
        assertThat(report.get("targets")).isEqualTo(List.of("fashion-mnist-resnet", "fashion-mnist-vgg"));
    }

    @Test
    void badInputIsOneLine() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        expect("bagnet4j: " + empty + ": no class subfolders (ImageFolder layout: one folder per class, holding its "
                + "images)", "--model", model.toString(), empty.toString());
        Path noImages = Files.createDirectories(dir.resolve("no-images/cats"));
        expect("bagnet4j: " + noImages.getParent() + ": no images (bmp, gif, jpeg, jpg, png) in its 1 class folders",
                "--model", model.toString(), noImages.getParent().toString());
        Path oneClass = dir.resolve("one-class");
        ForkedCli.sample("3-dress.png", Files.createDirectories(oneClass.resolve("dress")).resolve("3-dress.png"));
        expect("bagnet4j: bagnet knows 10 classes but the data has 1", "--model", model.toString(),
                oneClass.toString());
        expect("bagnet4j: k = 65 is more than the 64 patches of 4 pixels in a 34x34 input", "--model",
                model.toString(), "--k", "65", data.toString());
        expect("bagnet4j: --sides values must be between 1 and 999, got 0 (see: bagnet4j compare --help)",
                "--model", model.toString(), "--sides", "4,0", data.toString());
        expect("bagnet4j: --idx IMAGES needs the labels file after it: --idx IMAGES LABELS (see: bagnet4j compare "
                + "--help)", "--idx", "images.gz");
        expect("bagnet4j: --seed must be between 0 and 281474976710656, got 1152921504606846976 (see: bagnet4j "
                + "compare --help)", "--model", model.toString(), "--seed", Long.toString(1L << 60), data.toString());
        expect("bagnet4j: --sides takes at most 16 values, got 17 (see: bagnet4j compare --help)", "--model",
                model.toString(), "--sides", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", data.toString());
        Path otherView = withPreprocessing("other-view", "34", "34", "0");
        expect("bagnet4j: other-view resizes, crops or pads images differently from bagnet (resize 34, crop 34, pad 0 "
                + "vs resize 28, crop 28, pad 3); compare needs every model to see one view", "--model",
                model.toString(), "--bagnet", otherView.toString(), data.toString());
        Path small = withPreprocessing("small", "10", "10", "0");
        expect("bagnet4j: small needs inputs of at least 13 pixels a side (its receptive field), but the images are "
                + "10x10", "--model", small.toString(), data.toString());
        expect("bagnet4j: small reads images at 10x10 but bagnet at 34x34; compare needs one input size",
                "--model", model.toString(), "--bagnet", small.toString(), data.toString());
    }

    /** A labels file orders the classes, so a folder may hold a few of a model's classes. */
    @Test
    void aLabelsFileNamesTheClassFolders() throws Exception {
        Path some = dir.resolve("some");
        ForkedCli.sample("3-dress.png", Files.createDirectories(some.resolve("dress")).resolve("a.png"));
        ForkedCli.sample("7-sneaker.png", Files.createDirectories(some.resolve("sneaker")).resolve("b.png"));
        Path labels = Files.writeString(dir.resolve("labels.txt"), "t-shirt\ntrouser\npullover\ndress\ncoat\n"
                + "sandal\nshirt\nsneaker\nbag\nboot\n");
        Path out = dir.resolve("out");
        CommandsTest.Result r = cli("compare", "--model", model.toString(), "--labels", labels.toString(), "--k", "2",
                "--shuffle-seeds", "1", "--examples", "0", "--out", out.toString(), some.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Map<?, ?> report = (Map<?, ?>) Json.parse(Files.readString(out.resolve("report.json")));
        List<?> rates = (List<?>) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) report.get("errors")).get("models"))
                .get("bagnet")).get("class_error_rate");
        assertThat(rates).hasSize(10);
        assertThat(rates.get(3)).isNotNull();
        assertThat(rates.get(7)).isNotNull();
        assertThat(rates.get(0)).isNull(); // no t-shirts in the folder
        Files.writeString(labels, "dress\n");
        expect("bagnet4j: " + some.resolve("sneaker") + ": no class of that name in the labels file", "--model",
                model.toString(), "--labels", labels.toString(), some.toString());
    }

    @Test
    void unreadableImagesAreSkippedAndCounted() throws Exception {
        Files.writeString(data.resolve("3-dress/broken.png"), "not a png");
        Path out = dir.resolve("out");
        CommandsTest.Result r = cli("compare", "--model", model.toString(), "--k", "2", "--shuffle-seeds", "1",
                "--examples", "0", "--out", out.toString(), data.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).contains("on 10 images", "(1 images skipped: see the report)");
        assertThat(Files.readString(out.resolve("report.md"))).contains("(1 skipped, listed below)",
                "broken.png: ");
    }

    private void expect(String error, String... args) {
        String[] full = new String[args.length + 3];
        full[0] = "compare";
        System.arraycopy(args, 0, full, 1, args.length);
        full[args.length + 1] = "--out";
        full[args.length + 2] = dir.resolve("refused").toString();
        CommandsTest.Result r = cli(full);
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().lines().filter(l -> !l.startsWith("bagnet4j: no ")).toList()).containsExactly(error);
        assertThat(dir.resolve("refused")).doesNotExist();
    }

    /** The embedded BagNet (q = 13) with another resize, crop and pad. */
    private Path withPreprocessing(String name, String resize, String crop, String pad) throws Exception {
        Path file = dir.resolve(name + ".safetensors");
        try (SafetensorsFile original = SafetensorsFile.open(model)) {
            Map<String, String> meta = new HashMap<>(original.metadata());
            meta.put("bagnet4j.resize", resize);
            meta.put("bagnet4j.crop", crop);
            meta.put("bagnet4j.pad", pad);
            Map<String, int[]> shapes = new LinkedHashMap<>();
            original.entries().forEach((tensor, e) -> shapes.put(tensor, e.shape()));
            SafetensorsWriter.write(file, meta, shapes, original::readFloats);
        }
        return file;
    }
}
