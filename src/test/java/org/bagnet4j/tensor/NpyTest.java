package org.bagnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.bagnet4j.BagNetException;
import org.bagnet4j.ReferenceFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** Files written here are read back by NumPy with the same shape and values. */
    @Test
    void writesWhatNumpyReads() throws IOException {
        Path file = dir.resolve("a.npy");
        Npy.write(file, new int[] {2, 1, 3}, new float[] {1, 2, 3, 4, 5, 6.25f});
        String out = ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c",
                "import numpy; a = numpy.load('" + file + "'); print(a.dtype, a.shape, a.ravel().tolist())"));
        assertThat(out.trim()).isEqualTo("float32 (2, 1, 3) [1.0, 2.0, 3.0, 4.0, 5.0, 6.25]");
        Npy.Array back = Npy.read(file);
        assertThat(back.shape()).containsExactly(2, 1, 3);
        assertThat(back.data()).containsExactly(1, 2, 3, 4, 5, 6.25f);
    }

    @Test
    void rejectsOtherDtypesAndTruncation() throws IOException {
        Path f64 = dir.resolve("d.npy");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c",
                "import numpy; numpy.save('" + f64 + "', numpy.zeros((2, 2)))"));
        assertThatThrownBy(() -> Npy.read(f64)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("dtype <f8 is not float32");
        Path ok = dir.resolve("ok.npy");
        Npy.write(ok, new int[] {4}, new float[4]);
        byte[] bytes = Files.readAllBytes(ok);
        Path cut = dir.resolve("cut.npy");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 1));
        assertThatThrownBy(() -> Npy.read(cut)).hasMessageContaining("needs 16 bytes of data but the file has 15");
        Path text = dir.resolve("t.npy");
        Files.writeString(text, "hello");
        assertThatThrownBy(() -> Npy.read(text)).hasMessageContaining("not a .npy file");
    }

    @Test
    void tensorShapesAreChecked() {
        assertThatThrownBy(() -> Tensor.zeros(1, 0, 2, 3)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("must have positive dimensions");
        assertThatThrownBy(() -> Tensor.zeros(100000, 1000, 1000, 3)).hasMessageContaining("more than a Java array");
        assertThatThrownBy(() -> Tensor.wrap(new float[5], 1, 2, 2, 1)).hasMessageContaining("needs 4");
        Tensor t = Tensor.fromNchw(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 1, 3);
        assertThat(t.data()).containsExactly(1, 4, 2, 5, 3, 6);
    }
}
