package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/** The architecture facts of the README's tables, read from README.md and checked against the code. */
class ReadmeFactsTest {
    /** weights-converter/fashion/train.py's kernel3 for each receptive field q (its KERNEL3). */
    private static final Map<Integer, List<Integer>> FASHION_KERNEL3 = new TreeMap<>(Map.of(5, List.of(1, 0, 0),
            9, List.of(2, 1, 0), 13, List.of(2, 1, 1), 33, List.of(2, 2, 3)));

    /** The embedded model's family (train.py's config(q)). */
    private static BagNetConfig fashion(int q) {
        return new BagNetConfig("fashion-q" + q, 1, 8, List.of(8, 16, 32), List.of(2, 2, 3), List.of(1, 2, 2),
                FASHION_KERNEL3.get(q), 10);
    }

    @Test
    void presetTableIsThePresets() throws IOException {
        List<List<String>> rows = table("| preset | receptive field | parameters | grid at 224 |");
        assertThat(rows.stream().map(r -> r.get(0))).containsExactlyElementsOf(BagNetConfig.PRESETS);
        for (List<String> row : rows) {
            BagNetConfig config = BagNetConfig.preset(row.get(0));
            assertThat(config.receptiveField()).as(row.get(0)).isEqualTo(Integer.parseInt(row.get(1)));
            assertThat(config.parameterCount()).as(row.get(0)).isEqualTo(number(row.get(2)));
            assertThat(row.get(3)).as(row.get(0)).isEqualTo(config.gridSize(224) + " x " + config.gridSize(224));
        }
    }

    /**
     * The receptive-field table of the embedded model's family: each row's q is the file it names (architecture, the
     * accuracy its description records), and the embedded model is the row marked so.
     */
    @Test
    void embeddedModelTableIsItsFamily() throws IOException {
        List<List<String>> rows = table("| receptive field q | grid at 34x34 | parameters |");
        int shipped = 0;
        List<Integer> qs = new ArrayList<>();
        for (List<String> row : rows) {
            int q = Integer.parseInt(row.get(0).split(" ")[0]);
            qs.add(q);
            BagNetConfig config = fashion(q);
            assertThat(config.receptiveField()).as("q " + q).isEqualTo(q);
            assertThat(row.get(1)).as("q " + q).isEqualTo(config.gridSize(34) + " x " + config.gridSize(34));
            assertThat(config.parameterCount()).as("q " + q).isEqualTo(number(row.get(2)));
            shipped = row.getLast().endsWith("(the embedded model)") ? q : shipped;
            String file = row.getLast().replaceAll("^`([^`]+)\\.safetensors`.*", "$1");
            assertThat(ReferenceFixtures.FASHION_MODELS).as("q " + q + " is shipped").contains(file);
            Model model = Model.load(ReferenceFixtures.fashionModel(file), 1);
            assertThat(model.architecture()).as(file).usingRecursiveComparison().ignoringFields("name")
                    .isEqualTo(config);
            assertThat(row.get(3)).as(file).isEqualTo(FashionModelsTest.recordedAccuracy(model) + "%");
        }
        assertThat(qs).containsExactlyElementsOf(FASHION_KERNEL3.keySet());

        BagNet model = BagNet.embedded();
        assertThat(model.config()).usingRecursiveComparison().ignoringFields("name").isEqualTo(fashion(shipped));
        assertThat(model.gridStride()).isEqualTo(4);
        Preprocessing p = model.preprocessing();
        assertThat(new int[] {p.resize(), p.crop(), p.pad(), p.channels()}).as("Resize, CenterCrop, pad, channels")
                .containsExactly(28, 28, 3, 1);
    }

    /** The table of the standard CNNs in the jar: each row's file, its parameters and recorded accuracy. */
    @Test
    void shippedCnnTableIsTheirFiles() throws IOException {
        List<List<String>> rows = table("| model file | architecture | parameters |");
        assertThat(rows).hasSize(2);
        for (List<String> row : rows) {
            String file = row.get(0).replace("`", "");
            Model model = Model.load(ReferenceFixtures.fashionModel(file.replace(".safetensors", "")), 1);
            assertThat(model.architecture().parameterCount()).as(file).isEqualTo(number(row.get(2)));
            assertThat(row.get(4)).as(file).isEqualTo(FashionModelsTest.recordedAccuracy(model) + "%");
        }
    }

    @Test
    void cnnFamilyTableListsThePresets() throws IOException {
        List<String> listed = new ArrayList<>();
        for (List<String> row : table("| family | torchvision models | evidence grid |")) {
            String models = row.get(1);
            if (models.endsWith(" and their `_bn` variants")) {
                List<String> plain = Arrays.asList(models.replace(" and their `_bn` variants", "").split(", "));
                listed.addAll(plain);
                plain.forEach(m -> listed.add(m + "_bn"));
            } else {
                listed.addAll(Arrays.asList(models.split(", ")));
            }
        }
        List<String> presets = new ArrayList<>(ResNetConfig.PRESETS);
        presets.addAll(VggConfig.PRESETS);
        presets.addAll(DenseNetConfig.PRESETS);
        assertThat(listed).containsExactlyInAnyOrderElementsOf(presets);
    }

    private static long number(String cell) {
        return Long.parseLong(cell.replace(",", ""));
    }

    /** The cells of the rows of the README table whose header line starts with {@code header}. */
    private static List<List<String>> table(String header) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("README.md"));
        int start = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(header)) {
                assertThat(start).as("tables with the header " + header).isEqualTo(-1);
                start = i;
            }
        }
        assertThat(start).as("a table with the header " + header).isNotNegative();
        List<List<String>> rows = new ArrayList<>();
        for (int i = start + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String[] cells = lines.get(i).split("\\|", -1);
            rows.add(Arrays.stream(cells, 1, cells.length - 1).map(String::trim).toList());
        }
        return rows;
    }
}
