package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.bagnet4j.BagNet;
import org.bagnet4j.Model;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bagnet4j convert writes what weights-converter/convert.py writes; models load from checkpoints directly. */
@RequiresReference
class ConvertCommandTest {
    @TempDir
    Path dir;

    /** The BagNets (legacy format), tiny in zip format, and every torchvision checkpoint of the CNN fixtures. */
    @Test
    void writesWhatConvertPyWrites() throws Exception {
        Map<Path, Path> pairs = new java.util.LinkedHashMap<>();
        for (String name : List.of("tiny", "bagnet9", "bagnet17", "bagnet33")) {
            pairs.put(ReferenceFixtures.file(name + ".pth.tar"), ReferenceFixtures.model(name));
        }
        pairs.put(ReferenceFixtures.file("tiny_zip.pth.tar"), ReferenceFixtures.model("tiny"));
        try (var files = Files.list(ReferenceFixtures.cnnDir())) {
            files.filter(f -> f.toString().endsWith(".pth")).sorted().forEach(f -> pairs.put(f,
                    f.resolveSibling(f.getFileName().toString().replace(".pth", ".safetensors"))));
        }
        assertThat(pairs).hasSizeGreaterThanOrEqualTo(10);
        int i = 0;
        for (Map.Entry<Path, Path> pair : pairs.entrySet()) {
            Path out = dir.resolve("converted-" + i++ + ".safetensors");
            Files.deleteIfExists(dir.resolve("converted-" + (i - 2) + ".safetensors")); // keep the disk use small
            CommandsTest.Result r = CommandsTest.cli("convert", pair.getKey().toString(), out.toString());
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("wrote " + out);
            try (SafetensorsFile mine = SafetensorsFile.open(out);
                    SafetensorsFile theirs = SafetensorsFile.open(pair.getValue())) {
                assertThat(mine.metadata()).as(pair.getKey().toString()).isEqualTo(theirs.metadata());
                assertThat(List.copyOf(mine.entries().keySet())).isEqualTo(List.copyOf(theirs.entries().keySet()));
                for (String name : theirs.entries().keySet()) {
                    assertThat(mine.entries().get(name).shape()).as(name).isEqualTo(theirs.entries().get(name).shape());
                    assertThat(mine.readFloats(name)).as(name).isEqualTo(theirs.readFloats(name));
                }
            }
        }
    }

    @Test
    void modelsLoadFromCheckpointsWithTheConvertedFilesScores() {
        BagNet fromCheckpoint = BagNet.load(ReferenceFixtures.file("bagnet9.pth.tar"), 2);
        BagNet fromSafetensors = BagNet.load(ReferenceFixtures.model("bagnet9"), 2);
        var input = fromSafetensors.preprocess(ReferenceFixtures.photos().getFirst());
        assertThat(fromCheckpoint.classScores(input)).isEqualTo(fromSafetensors.classScores(input));
        assertThat(Model.load(ReferenceFixtures.cnnDir().resolve("resnet18.pth")).architecture().name())
                .isEqualTo("resnet18");
    }

    /**
     * A checkpoint is read tensor by tensor as the model packs them, never held whole beside the model: bagnet33's
     * 74 MB checkpoint classifies in a 300 MB heap, and VGG-16's 553 MB one in 1500 MB, as their safetensors files
     * do.
     */
    @Test
    void largeCheckpointsLoadInASmallHeap() throws Exception {
        Path image = ForkedCli.sample("9-ankle-boot.png", dir.resolve("boot.png"));
        classifiesAlike(image, "-Xmx300m", ReferenceFixtures.file("bagnet33.pth.tar"),
                ReferenceFixtures.model("bagnet33"));
        classifiesAlike(image, "-Xmx1500m", ReferenceFixtures.cnnFile("vgg16.pth"),
                ReferenceFixtures.cnnFile("vgg16.safetensors"));
    }

    private void classifiesAlike(Path image, String heap, Path checkpoint, Path safetensors) throws Exception {
        String fromCheckpoint = ForkedCli.run(dir, List.of(heap), "classify", "--top", "3", "--model",
                checkpoint.toAbsolutePath().toString(), image.toString());
        String fromSafetensors = ForkedCli.run(dir, List.of(heap), "classify", "--top", "3", "--model",
                safetensors.toAbsolutePath().toString(), image.toString());
        assertThat(fromCheckpoint.lines().filter(l -> l.contains("logit")))
                .as(checkpoint.getFileName().toString())
                .containsExactlyElementsOf(fromSafetensors.lines().filter(l -> l.contains("logit")).toList())
                .hasSize(3);
    }

    /** info says what a checkpoint holds: its format, and float16 weights read as float32. */
    @Test
    void infoSaysTheFormatAndTheWeightsDtype() throws Exception {
        Path half = dir.resolve("tiny16.pth");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import sys, torch; "
                + "sd = torch.load(sys.argv[1], weights_only=True); torch.save({k: v.half() if v.is_floating_point() "
                + "else v for k, v in sd.items()}, sys.argv[2])", ReferenceFixtures.file("tiny.pth.tar").toString(),
                half.toString()));
        assertThat(CommandsTest.cli("info", half.toString()).out()).startsWith("model:            custom ("
                + half + ", PyTorch checkpoint (zip format), float16 weights read as float32)\n");
        assertThat(CommandsTest.cli("info", ReferenceFixtures.file("tiny.pth.tar").toString()).out())
                .contains("PyTorch checkpoint (legacy format), float32)");
    }

    @Test
    void refusalsAreOneLine() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Files.writeString(out, "mine");
        CommandsTest.Result r = CommandsTest.cli("convert", ReferenceFixtures.file("tiny.pth.tar").toString(),
                out.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("bagnet4j: " + out + " exists; --force to overwrite it (see: bagnet4j convert "
                + "--help)\n");
        r = CommandsTest.cli("convert", "--arch", "bagnet33", ReferenceFixtures.file("tiny.pth.tar").toString(),
                dir.resolve("x.safetensors").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("bagnet4j: tiny.pth.tar: no supported architecture has these tensors")
                .contains("bagnet33: ");
        assertThat(r.err().lines()).hasSize(1);
        assertThat(dir.resolve("x.safetensors")).doesNotExist();
        r = CommandsTest.cli("convert", ReferenceFixtures.photos().getFirst().toString(),
                dir.resolve("x.safetensors").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines().count()).isEqualTo(1);
    }
}
