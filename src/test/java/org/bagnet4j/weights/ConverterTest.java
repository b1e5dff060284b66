package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.bagnet4j.ReferenceFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** weights-converter/convert.py refuses what is not a BagNet checkpoint with one line and exit code 2. */
class ConverterTest {
    @TempDir
    Path dir;

    record Run(int code, String output) {
    }

    private Run convert(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(ReferenceFixtures.python(), "weights-converter/convert.py"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    private void assertRefused(Run run, String message) {
        assertThat(run.code()).as(run.output()).isEqualTo(2);
        assertThat(run.output().strip()).startsWith("convert.py: error: ").contains(message).doesNotContain("\n")
                .doesNotContain("Traceback");
    }

    @Test
    void refusesWhatIsNotABagNet() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Path resnet = dir.resolve("linear.pth");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c",
                "import torch; torch.save(torch.nn.Linear(3, 2).state_dict(), '" + resnet + "')"));
        assertRefused(convert(resnet.toString(), out.toString()), "not a BagNet checkpoint: no tensor 'conv1.weight'");

        Path text = dir.resolve("notes.pth");
        Files.writeString(text, "hello");
        assertRefused(convert(text.toString(), out.toString()), "cannot read");
        assertRefused(convert(dir.resolve("absent.pth").toString(), out.toString()), "checkpoint not found");

        String bagnet9 = ReferenceFixtures.file("bagnet9.pth.tar").toString();
        assertRefused(convert(bagnet9, out.toString(), "--arch", "bagnet33"),
                "tensor 'layer3.0.conv2.weight' has shape [256, 256, 1, 1], a bagnet33 needs [256, 256, 3, 3]");
        assertRefused(convert(bagnet9, out.toString(), "--strides", "2,2"), "--strides has 2 entries");
        assertThat(Files.exists(out)).isFalse();
    }

    @Test
    void labelsFromAFileOverrideTheDefault() throws Exception {
        Path labels = Files.writeString(dir.resolve("labels.txt"),
                "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine, or ten\n");
        Path out = dir.resolve("tiny.safetensors");
        Run run = convert(ReferenceFixtures.file("tiny.pth.tar").toString(), out.toString(), "--labels",
                labels.toString());
        assertThat(run.code()).as(run.output()).isZero();
        org.bagnet4j.BagNet model = org.bagnet4j.BagNet.load(out);
        assertThat(model.labels().name(9)).isEqualTo("nine, or ten");
        assertThat(model.labels().indexOf("three")).isEqualTo(3);
        Path short3 = Files.writeString(dir.resolve("three.txt"), "a\nb\nc\n");
        assertRefused(convert(ReferenceFixtures.file("tiny.pth.tar").toString(), out.toString(), "--labels",
                short3.toString()), "has 3 labels but the model has 10 classes");
    }

    @Test
    void infersPresetsFromShapes() throws Exception {
        Path out = dir.resolve("b9.safetensors");
        Run run = convert(ReferenceFixtures.file("bagnet9.pth.tar").toString(), out.toString());
        assertThat(run.code()).as(run.output()).isZero();
        try (ModelFile f = ModelFile.open(out)) {
            assertThat(f.config()).isEqualTo(org.bagnet4j.BagNetConfig.bagnet9());
        }
    }
}
