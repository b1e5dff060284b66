package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.bagnet4j.BagNetException;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch checkpoints read in Java, against what convert.py (with PyTorch) makes of the same files. */
@RequiresReference
class TorchCheckpointTest {
    @TempDir
    Path dir;

    /** The official-style checkpoints (legacy serialization) give convert.py's float32 weights to the bit. */
    @Test
    void checkpointsReadToTheBitOfConvertPy() {
        for (String name : List.of("tiny", "bagnet9", "bagnet17", "bagnet33")) {
            assertSameTensors(ReferenceFixtures.file(name + ".pth.tar"), ReferenceFixtures.model(name));
        }
        // The zip serialization, and a {"state_dict": ...} wrapper with module. prefixes.
        assertSameTensors(ReferenceFixtures.file("tiny_zip.pth.tar"), ReferenceFixtures.model("tiny"));
        assertSameTensors(ReferenceFixtures.file("tiny_wrapped.pth.tar"), ReferenceFixtures.model("tiny"));
    }

    private static void assertSameTensors(Path checkpoint, Path safetensors) {
        assertThat(TorchCheckpoint.recognizes(checkpoint)).isTrue();
        assertThat(TorchCheckpoint.recognizes(safetensors)).isFalse();
        Map<String, TorchCheckpoint.Tensor> read = TorchCheckpoint.read(checkpoint);
        try (SafetensorsFile converted = SafetensorsFile.open(safetensors)) {
            assertThat(converted.entries()).isNotEmpty();
            for (SafetensorsFile.Entry e : converted.entries().values()) {
                TorchCheckpoint.Tensor t = read.get(e.name());
                assertThat(t).as(checkpoint.getFileName() + ": " + e.name()).isNotNull();
                assertThat(t.shape()).as(e.name()).isEqualTo(e.shape());
                assertThat(t.values()).as(e.name()).isEqualTo(converted.readFloats(e.name()));
            }
        }
    }

    /** A pickle that would run os.system is refused by name, and the file it would create never appears. */
    @Test
    void picklesThatCallOtherFunctionsAreRefusedWithoutCallingThem() throws Exception {
        Path checkpoint = dir.resolve("system.pth");
        Path marker = dir.resolve("marker");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", ConverterTest.PICKLE_WITH_MARKER,
                checkpoint.toString(), marker.toString()));
        assertThatThrownBy(() -> TorchCheckpoint.read(checkpoint)).isInstanceOf(BagNetException.class)
                .hasMessage("system.pth: refusing checkpoint: it references posix.system, which a weights file "
                        + "never needs");
        assertThat(marker).doesNotExist();
    }

    /** A small file whose views repeat one element (stride 0) cannot make a huge tensor. */
    @Test
    void viewsCannotMultiplyAFileIntoMemory() throws Exception {
        Path checkpoint = dir.resolve("broadcast.pth");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c", "import sys, torch; "
                + "torch.save({'w': torch.zeros(1).expand(20000, 20000)}, sys.argv[1])", checkpoint.toString()));
        assertThatThrownBy(() -> TorchCheckpoint.read(checkpoint)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("its tensors hold more elements than the file has bytes");
    }
}
