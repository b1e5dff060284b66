package org.bagnet4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.bagnet4j.tensor.Npy;
import org.junit.jupiter.api.Tag;

/** .npy files, as {@code run} and {@code explain} read them. */
@Tag("fuzz")
class NpyFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void npy(byte[] data) {
        Allowed.onlyBagNetException(() -> Npy.read(Allowed.scratch("input.npy", data)));
    }
}
