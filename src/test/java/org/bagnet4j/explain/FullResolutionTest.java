package org.bagnet4j.explain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.Compare.assertClose;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import org.bagnet4j.BagNet;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

@RequiresReference
class FullResolutionTest {
    static Tensor input(Npy.Array a) {
        return Tensor.fromNchw(a.data(), a.shape()[0], a.shape()[1], a.shape()[2], a.shape()[3]);
    }

    /** The reference method (every 9x9 patch through PyTorch by itself) on a 224x224 photo, value for value. */
    @Test
    void equalsThePerPatchReferenceOnAPhoto() throws IOException {
        BagNet model = BagNet.load(ReferenceFixtures.model("bagnet9"));
        Tensor image = input(ReferenceFixtures.array("heatmap-bagnet9-input"));
        int cls = Integer.parseInt(Files.readString(ReferenceFixtures.file("heatmap-bagnet9-class.txt")).strip());
        List<Long> reported = new ArrayList<>();
        EvidenceMap map = Explainer.fullResolution(model, image, cls, null, (done, total) -> reported.add(done));
        float[] expected = ReferenceFixtures.array("heatmap-bagnet9-heatmap").data();
        assertThat(map.width()).isEqualTo(224);
        assertThat(map.height()).isEqualTo(224);
        assertClose("bagnet9 full-resolution heatmap", map.values(), expected, 1e-4);
        assertThat(reported).isNotEmpty().last().isEqualTo(224L);
        assertThat(map.box(0, 0)).isEqualTo(new EvidenceMap.Box(-4, -4, 5, 5));
    }

    /**
     * Bands of any height and regions give the bits of one pass over the whole image, and so does the per-patch
     * method in a network without Winograd layers (bagnet17).
     */
    @Test
    void bandsAndRegionsAgreeWithOnePass() {
        BagNet model = BagNet.load(ReferenceFixtures.model("bagnet17"));
        Tensor image = input(ReferenceFixtures.array("bagnet17_input_rect")); // 200 x 160
        Tensor small = Tensor.zeros(1, 60, 50, 3);
        for (int y = 0; y < 60; y++) {
            System.arraycopy(image.data(), (y + 20) * 160 * 3, small.data(), y * 50 * 3, 50 * 3);
        }
        EvidenceMap whole = Explainer.fullResolution(model, small, 7, null, null, 60);
        for (int band : new int[] {1, 7, 8, 13}) {
            EvidenceMap banded = Explainer.fullResolution(model, small, 7, null, null, band);
            assertThat(banded.values()).as("band " + band).containsExactly(whole.values());
        }
        EvidenceMap region = Explainer.fullResolution(model, small, 7, new Explainer.Region(11, 5, 30, 41), null, 9);
        float[] expected = new float[19 * 36];
        for (int y = 0; y < 36; y++) {
            for (int x = 0; x < 19; x++) {
                expected[y * 19 + x] = whole.value(11 + x, 5 + y);
            }
        }
        assertThat(region.values()).as("region").containsExactly(expected);
        assertThat(region.box(0, 0)).isEqualTo(whole.box(11, 5));
        EvidenceMap perPatch = Explainer.fullResolutionPerPatch(model, small, 7, new Explainer.Region(11, 5, 30, 41));
        assertThat(perPatch.values()).as("per-patch baseline").containsExactly(expected);
    }
}
