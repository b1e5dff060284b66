package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.Compare.assertClose;
import static org.bagnet4j.cli.CommandsTest.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.VggConfig;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands on standard CNNs: what they accept, what they refuse, and that their numbers are torchvision's. */
@RequiresReference
class CnnCommandsTest {
    @TempDir
    Path dir;

    @Test
    void runGivesTorchvisionsScoresAndActivationMap() {
        String model = ReferenceFixtures.cnnFile("resnet18.safetensors").toString();
        String input = ReferenceFixtures.cnnFile("resnet18_input_rect.npy").toString();
        Path scores = dir.resolve("scores.npy");
        CommandsTest.Result r = cli("run", "--model", model, "--input", input, "--output", scores.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertClose("cli scores", Npy.read(scores).data(), ReferenceFixtures.cnnArray("resnet18_scores_rect").data(),
                1e-4);
        Path map = dir.resolve("map.npy");
        r = cli("run", "--model", model, "--input", input, "--output", map.toString(), "--grid");
        assertThat(r.code()).as(r.err()).isZero();
        Npy.Array expected = ReferenceFixtures.cnnArray("resnet18_cam_rect");
        assertThat(Npy.read(map).shape()).containsExactly(expected.shape());
        assertClose("cli map", Npy.read(map).data(), expected.data(), 1e-4);
    }

    @Test
    void infoClassifyAndExplainTakeEveryFamilyWithAGrid() {
        String model = ReferenceFixtures.cnnFile("densenet121.safetensors").toString();
        CommandsTest.Result r = cli("info", model);
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("densenet121", "family:           densenet", "7,978,856");
        r = cli("info", "--preset", "resnet152");
        assertThat(r.out()).contains("family:           resnet", "60,192,808", "[3, 8, 36, 3] per stage, bottleneck");
        r = cli("info", "--preset", "vgg16");
        assertThat(r.out()).contains("138,357,544", "512 x 7 x 7 -> 4096 -> 4096 -> 1000");

        String photo = ReferenceFixtures.photos().getFirst().toString();
        r = cli("classify", "--model", model, "--top", "3", photo);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains(" 1. ", " 3. ");

        Path out = dir.resolve("explained");
        r = cli("explain", "--model", model, "--out", out.toString(), photo);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Npy.read(out.resolve("heatmap-grid.npy")).shape()).containsExactly(7, 7);
        assertThat(out.resolve("explanation.json")).content().contains("\"grid_kind\": \"class activation map\"",
                "\"grid_stride\": 32");
    }

    /** One line and exit code 2 each, before a large model's weights are even read. */
    @Test
    void refusesWhatAFamilyCannotDo() throws Exception {
        String resnet = ReferenceFixtures.cnnFile("resnet18.safetensors").toString();
        String photo = ReferenceFixtures.photos().getFirst().toString();
        VggConfig small = new VggConfig("small", 3, List.of(8, VggConfig.POOL, 8, VggConfig.POOL, 8, VggConfig.POOL,
                8, VggConfig.POOL, 8, VggConfig.POOL), false, 16, 10);
        Path vgg = dir.resolve("vgg.safetensors");
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        small.tensorShapes().forEach((name, shape) -> {
            int size = 1;
            for (int d : shape) {
                size *= d;
            }
            tensors.put(name, new SafetensorsWriter.Tensor(shape, new float[size]));
        });
        SafetensorsWriter.write(vgg, small.toMetadata(), tensors);
        Path tiny = dir.resolve("tiny.npy");
        Npy.write(tiny, new int[] {1, 3, 20, 20}, new float[3 * 20 * 20]);

        List<String[]> cases = List.of(
                new String[] {"patches", "--model", resnet, "--class", "1", photo},
                new String[] {"scramble", "--model", resnet, photo},
                new String[] {"explain", "--model", resnet, "--full", photo},
                new String[] {"explain", "--model", vgg.toString(), photo},
                new String[] {"run", "--model", vgg.toString(), "--input", tiny.toString(), "--output",
                    dir.resolve("y.npy").toString()});
        List<String> expected = List.of("patches needs a BagNet", "scramble needs a BagNet",
                "--full and --region need a BagNet", "explain needs a BagNet, ResNet or DenseNet",
                "input 20x20 is smaller than the 32x32 small takes");
        for (int i = 0; i < cases.size(); i++) {
            CommandsTest.Result r = cli(cases.get(i));
            assertThat(r.code()).as(String.join(" ", cases.get(i))).isEqualTo(2);
            assertThat(r.err()).contains(expected.get(i));
            assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("Exception");
        }
    }
}
