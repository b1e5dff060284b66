package org.bagnet4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.bagnet4j.BagNetException;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** Files written here are read back by NumPy with the same shape and values. */
    @Test
    @RequiresReference
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
    @RequiresReference
    void rejectsOtherDtypes() throws IOException {
        Path f64 = dir.resolve("d.npy");
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), "-c",
                "import numpy; numpy.save('" + f64 + "', numpy.zeros((2, 2)))"));
        assertThatThrownBy(() -> Npy.read(f64)).isInstanceOf(BagNetException.class)
                .hasMessageContaining("dtype <f8 is not float32");
    }

    @Test
    void rejectsTruncationAndOtherFiles() throws IOException {
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

    private Path npy(String dict, int dataBytes) throws IOException {
        String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        byte[] head = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + head.length + dataBytes)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) head.length).put(head);
        Path file = dir.resolve("h.npy");
        Files.write(file, b.array());
        return file;
    }

    /** The header is parsed as the dict it is: a key hidden in a string, a repeated key or odd shapes fail. */
    @Test
    void headerIsParsedNotSearched() throws IOException {
        assertThat(Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", 8)).shape())
                .containsExactly(2, 1);
        assertThat(Npy.read(npy("{\"shape\": (3,), \"descr\": \"<f4\", \"fortran_order\": False}", 12)).shape())
                .containsExactly(3);
        assertThat(Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4)).shape()).isEmpty();
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'x': \"'shape': (1,)\", "
                + "'shape': (2,)}", 8))).hasMessageContaining("unexpected key 'x'");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': \"'shape': (1,)\", 'fortran_order': False}", 4)))
                .hasMessageContaining("missing 'shape'");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                + "'shape': (1,)}", 4))).hasMessageContaining("'shape' given twice");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", 4)))
                .hasMessageContaining("non-negative integers");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,)}",
                4))).hasMessageContaining("below 2^31");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, "
                + "65536)}", 4))).hasMessageContaining("is too large");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", 4)))
                .hasMessageContaining("expected True or False");
        assertThatThrownBy(() -> Npy.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} extra", 4)))
                .hasMessageContaining("unexpected text after the dict");
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
