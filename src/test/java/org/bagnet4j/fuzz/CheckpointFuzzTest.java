package org.bagnet4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.bagnet4j.weights.TorchCheckpoint;
import org.junit.jupiter.api.Tag;

/**
 * PyTorch checkpoints as every command reads them: opened and every tensor read. The seeds are small checkpoints
 * of both formats made by PyTorch (weights-converter/reference_checkpoints.py), one of them hostile.
 */
@Tag("fuzz")
class CheckpointFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void checkpoint(byte[] data) {
        Allowed.onlyBagNetException(() -> TorchCheckpoint.read(Allowed.scratch("input.pth", data)));
    }
}
