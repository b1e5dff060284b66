package org.bagnet4j.compare;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SensitivityTest {
    @Test
    void equalImportancesRankByIndexWhateverTheirSign() {
        assertThat(Sensitivity.order(new double[] {-0.0, 1, 0.0, 2})).containsExactly(3, 1, 0, 2);
    }
}
