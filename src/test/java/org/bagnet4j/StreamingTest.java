package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bagnet4j.Compare.assertClose;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import javax.imageio.ImageIO;

import org.bagnet4j.explain.Patch;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Tile-by-tile evaluation against PyTorch and against whole-image evaluation. */
class StreamingTest {
    /** PyTorch's grid and scores of a 200x160 input, streamed in tiles of 1, 2 and 5 cells. */
    @ParameterizedTest
    @ValueSource(strings = {"bagnet9", "bagnet17", "bagnet33"})
    @RequiresReference
    void tilesMatchPyTorch(String arch) {
        BagNet model = BagNet.load(ReferenceFixtures.model(arch));
        Npy.Array x = ReferenceFixtures.array(arch + "_input_rect");
        Tensor image = Tensor.fromNchw(x.data(), 1, x.shape()[1], x.shape()[2], x.shape()[3]);
        float[] scores = ReferenceFixtures.array(arch + "_scores_rect").data();
        Npy.Array grid = ReferenceFixtures.array(arch + "_grid_rect");
        int classes = model.config().numClasses();
        int[] all = new int[classes];
        for (int c = 0; c < classes; c++) {
            all[c] = c;
        }
        int q = model.receptiveField();
        for (int cells : new int[] {1, 2, 5}) {
            StreamResult r = model.stream(image, new StreamRequest().classes(all).keepGrid(true)
                    .tileSize(q + 8 * (cells - 1)));
            assertClose(arch + " scores, tiles of " + cells, r.scores(), scores, ReferenceTest.TOLERANCE);
            assertThat(r.grid().shape()).containsExactly(grid.shape());
            assertClose(arch + " grid, tiles of " + cells, r.grid().data(), grid.data(), ReferenceTest.TOLERANCE);
        }
    }

    /**
     * Heights and widths with every remainder mod 8 (so the last tile ends at every offset), tiles of 1 to 5 cells
     * and the automatic one (the whole grid here), 1 to 3 threads: the whole image's scores and grid, to the bit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bagnet9", "bagnet17", "bagnet33"})
    void tilesGiveTheWholeImagesBits(String arch) {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset(arch), 3, 2);
        List<BagNet> byThreads = List.of(BagNet.withRandomWeights(BagNetConfig.preset(arch), 3, 1), model,
                BagNet.withRandomWeights(BagNetConfig.preset(arch), 3, 3));
        int q = model.receptiveField();
        int[] classes = {0, 17, 999};
        for (int r = 0; r < 8; r++) {
            Tensor image = BagNetTest.randomImages(r, 1, q + 40 + r, q + 47 - r, 3);
            float[] scores = model.classScores(image)[0];
            Tensor grid = model.patchLogits(image, classes);
            for (int cells = 0; cells <= 5; cells++) {
                StreamResult s = byThreads.get(cells % 3).stream(image, new StreamRequest().classes(classes)
                        .keepGrid(true).tileSize(cells == 0 ? 0 : q + 8 * (cells - 1) + r % 3));
                String what = arch + " " + image + " tiles of " + cells;
                assertThat(s.scores()).as(what + " scores").containsExactly(scores);
                assertThat(s.grid().shape()).containsExactly(grid.shape());
                assertThat(s.grid().data()).as(what + " grid").containsExactly(grid.data());
            }
        }
    }

    /** bagnet33 (Winograd on its last 3x3) on a grid of 15 x 17 cells, in tiles of 4 to 16 cells: the bits of the whole. */
    @Test
    void largerTilesOfBagnet33GiveTheWholeImagesBits() {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.bagnet33(), 12, 2);
        Tensor image = BagNetTest.randomImages(12, 1, 33 + 8 * 14 + 5, 33 + 8 * 16 + 2, 3);
        int[] classes = {3, 999};
        float[] scores = model.classScores(image)[0];
        Tensor grid = model.patchLogits(image, classes);
        assertThat(grid.height()).isEqualTo(15);
        for (int cells : new int[] {4, 8, 12, 16}) {
            StreamResult s = model.stream(image, new StreamRequest().classes(classes).keepGrid(true)
                    .tileSize(33 + 8 * (cells - 1)));
            assertThat(s.scores()).as("tiles of " + cells).containsExactly(scores);
            assertThat(s.grid().data()).as("grid, tiles of " + cells).containsExactly(grid.data());
        }
    }

    /**
     * The embedded model's grid stride is 4, not the ImageNet BagNets' 8 (README): its tiles of 1 to 5 cells, on
     * heights and widths with every remainder mod 4, give the whole image's bits too.
     */
    @Test
    void embeddedModelsTilesGiveTheWholeImagesBits() {
        BagNet model = BagNet.embedded();
        assertThat(model.gridStride()).isEqualTo(4);
        int q = model.receptiveField();
        int[] classes = {0, 9};
        for (int r = 0; r < 4; r++) {
            Tensor image = BagNetTest.randomImages(r, 1, 50 + r, 57 - r, 1);
            float[] scores = model.classScores(image)[0];
            Tensor grid = model.patchLogits(image, classes);
            for (int cells = 1; cells <= 5; cells++) {
                StreamResult s = model.stream(image, new StreamRequest().classes(classes).keepGrid(true)
                        .tileSize(q + 4 * (cells - 1)));
                assertThat(s.scores()).as(image + " tiles of " + cells).containsExactly(scores);
                assertThat(s.grid().data()).as(image + " grid, tiles of " + cells).containsExactly(grid.data());
            }
        }
    }

    /** Each image of a batch gets the bits it gets alone, whole or streamed. */
    @Test
    void batchesGiveEachImagesOwnBits() {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset("bagnet33"), 8, 2);
        Tensor batch = BagNetTest.randomImages(4, 3, 70, 61, 3);
        float[][] together = model.classScores(batch);
        Tensor grids = model.patchLogits(batch, 3, 500);
        int size = 70 * 61 * 3;
        int cells = grids.size() / 3;
        for (int n = 0; n < 3; n++) {
            Tensor one = Tensor.wrap(Arrays.copyOfRange(batch.data(), n * size, (n + 1) * size), 1, 70, 61, 3);
            assertThat(model.classScores(one)[0]).as("image " + n).containsExactly(together[n]);
            StreamResult s = model.stream(one, new StreamRequest().classes(3, 500).keepGrid(true).tileSize(33));
            assertThat(s.scores()).as("image " + n + " streamed").containsExactly(together[n]);
            assertThat(s.grid().data()).as("image " + n + " grid")
                    .containsExactly(Arrays.copyOfRange(grids.data(), n * cells, (n + 1) * cells));
        }
    }

    @Test
    void patchesAndRowsComeFromTheSameGrid() {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset("bagnet9"), 4, 2);
        Tensor image = BagNetTest.randomImages(9, 1, 91, 75, 3);
        List<Integer> firstRows = new ArrayList<>();
        List<Tensor> bands = new ArrayList<>();
        StreamResult r = model.stream(image, new StreamRequest().classes(5, 6).keepGrid(true).topPatches(4)
                .bottomPatches(3).tileSize(9 + 8 * 3).onRows((first, logits) -> {
                    firstRows.add(first);
                    bands.add(logits);
                }));
        assertThat(firstRows).containsExactly(0, 4, 8);
        int k = 2;
        float[] joined = new float[r.grid().size()];
        int at = 0;
        for (Tensor band : bands) {
            System.arraycopy(band.data(), 0, joined, at, band.size());
            at += band.size();
        }
        assertThat(joined).containsExactly(r.grid().data());
        for (int i = 0; i < k; i++) {
            List<Patch> cells = new ArrayList<>();
            for (int y = 0; y < r.gridHeight(); y++) {
                for (int x = 0; x < r.gridWidth(); x++) {
                    cells.add(new Patch("", x, y, r.grid().data()[(y * r.gridWidth() + x) * k + i], null));
                }
            }
            cells.sort(Comparator.comparingDouble(Patch::value));
            assertThat(r.top().get(i)).extracting(Patch::value)
                    .containsExactly(cells.reversed().subList(0, 4).stream().map(Patch::value).toArray(Float[]::new));
            assertThat(r.bottom().get(i)).extracting(Patch::value)
                    .containsExactly(cells.subList(0, 3).stream().map(Patch::value).toArray(Float[]::new));
            Patch best = r.top().get(i).getFirst();
            assertThat(best.box()).isEqualTo(new org.bagnet4j.explain.EvidenceMap.Box(8 * best.x(), 8 * best.y(),
                    8 * best.x() + 9, 8 * best.y() + 9));
        }
    }

    /** Each format read region by region, in several bands, gives what the whole decoded image gives. */
    @ParameterizedTest
    @ValueSource(strings = {"png", "jpg", "bmp", "gif"})
    void fileSourceReadsRegions(String format, @TempDir Path dir) throws Exception {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset("bagnet9"), 5, 2);
        BufferedImage picture = new BufferedImage(150, 97, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(1);
        for (int y = 0; y < picture.getHeight(); y++) {
            for (int x = 0; x < picture.getWidth(); x++) {
                picture.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        Path file = dir.resolve("noise." + format);
        assertThat(ImageIO.write(picture, format, file.toFile())).as(format + " writer").isTrue();
        Tensor whole = model.preprocessing().withSize(0, 0).apply(org.bagnet4j.image.ImageDecoder.read(file));
        float[] expected = model.classScores(whole)[0];
        try (var source = model.imageSource(file, 1_000_000)) {
            StreamResult r = model.stream(source, new StreamRequest().tileSize(9 + 8 * 4));
            assertThat(r.gridHeight()).as("bands of 5 rows").isGreaterThan(5);
            assertThat(r.scores()).as("streamed " + format).containsExactly(expected);
        }
    }

    /**
     * A file source prepares the image as the model's preprocessing does without resizing: the embedded model's
     * grayscale and 3-pixel border, and transparent pixels as the whole decoding treats them, in any window.
     */
    @Test
    void fileSourcePadsAndCompositesAsThePreprocessingDoes(@TempDir Path dir) throws Exception {
        BagNet model = BagNet.embedded();
        assertThat(model.preprocessing().pad()).isPositive();
        BufferedImage picture = new BufferedImage(61, 47, BufferedImage.TYPE_INT_ARGB);
        Random rnd = new Random(2);
        for (int y = 0; y < picture.getHeight(); y++) {
            for (int x = 0; x < picture.getWidth(); x++) {
                picture.setRGB(x, y, rnd.nextInt());
            }
        }
        Path file = dir.resolve("see-through.png");
        ImageIO.write(picture, "png", file.toFile());
        for (java.awt.Color background : java.util.Arrays.asList(null, java.awt.Color.WHITE)) {
            Tensor whole = model.preprocessing().withSize(0, 0).apply(
                    org.bagnet4j.image.ImageDecoder.read(file, 1_000_000, background));
            try (var source = model.imageSource(file, 1_000_000, background)) {
                assertThat(source.width()).isEqualTo(whole.width());
                assertThat(source.height()).isEqualTo(whole.height());
                for (int[] w : new int[][] {{0, 0, whole.width(), whole.height()}, {0, 0, 2, 2}, {1, 2, 30, 9},
                        {60, 40, whole.width() - 60, whole.height() - 40}, {20, 10, 5, 5}}) {
                    float[] read = new float[w[2] * w[3]];
                    source.read(w[0], w[1], w[2], w[3], read);
                    for (int y = 0; y < w[3]; y++) {
                        for (int x = 0; x < w[2]; x++) {
                            assertThat(read[y * w[2] + x]).as("background %s, window %s, (%d, %d)", background,
                                    java.util.Arrays.toString(w), x, y)
                                    .isEqualTo(whole.data()[(w[1] + y) * whole.width() + w[0] + x]);
                        }
                    }
                }
                assertThat(source.transparent()).isTrue();
            }
            try (var source = model.imageSource(file, 1_000_000, background)) {
                assertThat(model.stream(source, new StreamRequest().tileSize(13 + 4 * 2)).scores())
                        .containsExactly(model.classScores(whole)[0]);
            }
        }
    }

    @Test
    void badRequestsAreNamed() {
        BagNet model = BagNet.withRandomWeights(BagNetConfig.preset("bagnet9"), 6, 1);
        Tensor image = BagNetTest.randomImages(1, 1, 40, 40, 3);
        assertThatThrownBy(() -> model.stream(image, new StreamRequest().tileSize(8)))
                .isInstanceOf(BagNetException.class).hasMessage("tile size 8 is smaller than bagnet9's 9x9 receptive field");
        assertThatThrownBy(() -> model.stream(image, new StreamRequest().maxPixels(1000)))
                .isInstanceOf(BagNetException.class).hasMessageContaining("above the limit of 1,000 pixels");
        assertThatThrownBy(() -> model.stream(BagNetTest.randomImages(1, 1, 8, 40, 3), new StreamRequest()))
                .isInstanceOf(BagNetException.class).hasMessageContaining("smaller than bagnet9's 9x9");
        assertThatThrownBy(() -> model.stream(BagNetTest.randomImages(1, 1, 40, 40, 1), new StreamRequest()))
                .isInstanceOf(BagNetException.class).hasMessageContaining("expects 3 input channels");
        assertThatThrownBy(() -> model.stream(image, new StreamRequest().classes(1000)))
                .isInstanceOf(BagNetException.class).hasMessageContaining("class 1000 is outside");
        assertThatThrownBy(() -> new StreamRequest().tileSize(-1)).isInstanceOf(BagNetException.class);
        assertThatThrownBy(() -> model.stream(image, new StreamRequest().keepGrid(true)))
                .isInstanceOf(BagNetException.class).hasMessageContaining("need classes");
    }
}
