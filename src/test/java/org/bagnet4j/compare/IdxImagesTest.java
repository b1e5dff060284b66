package org.bagnet4j.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import org.bagnet4j.BagNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files as Fashion-MNIST ships them, and hostile ones: one-line errors, nothing allocated beyond the file. */
class IdxImagesTest {
    private static final List<String> CLASSES = List.of("a", "b", "c");
    @TempDir
    Path dir;

    @Test
    void readsImagesAndLabelsGzippedOrNot() throws IOException {
        byte[] images = idx(0x803, new int[] {2, 2, 3}, new byte[] {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, (byte) 255});
        byte[] labels = idx(0x801, new int[] {2}, new byte[] {2, 0});
        for (boolean gzip : new boolean[] {false, true}) {
            IdxImages data = IdxImages.read(write("i", images, gzip), write("l", labels, gzip), CLASSES);
            assertThat(data.size()).isEqualTo(2);
            assertThat(data.label(0)).isEqualTo(2);
            assertThat(data.label(1)).isZero();
            assertThat(data.image(1).width()).isEqualTo(3);
            assertThat(data.image(1).height()).isEqualTo(2);
            assertThat(data.image(1).get(2, 1, 0)).isEqualTo(255);
            assertThat(data.image(1).get(1, 0, 2)).isEqualTo(11);
        }
    }

    @Test
    void hostileFilesAreRefusedInOneLine() throws IOException {
        byte[] labels = idx(0x801, new int[] {1}, new byte[] {0});
        Path goodLabels = write("labels", labels, false);
        assertRefused(idx(0x801, new int[] {1, 1, 1}, new byte[1]), goodLabels,
                "not an IDX file of images (magic 0x00000803)");
        assertRefused(idx(0x803, new int[] {1, 2, 2}, new byte[3]), goodLabels, "truncated (3 of 4 bytes after the header)");
        // A header that claims 2^30 images of 28x28: refused before any allocation.
        assertRefused(idx(0x803, new int[] {1 << 30, 28, 28}, new byte[0]), goodLabels,
                "its header declares more than 1073741824 bytes");
        assertRefused(idx(0x803, new int[] {-1, 28, 28}, new byte[0]), goodLabels, "size -1 in its header");
        // A header that claims 1M images of 28x28 over an empty file: reads what is there, then stops.
        assertRefused(idx(0x803, new int[] {1_000_000, 28, 28}, new byte[10]), goodLabels,
                "truncated (10 of 784000000 bytes after the header)");
        assertRefused(new byte[] {0, 0}, goodLabels, "not an IDX file of images (magic 0x00000803)");
        Path twoImages = write("two", idx(0x803, new int[] {2, 1, 1}, new byte[2]), false);
        assertThatThrownBy(() -> IdxImages.read(twoImages, goodLabels, CLASSES)).isInstanceOf(BagNetException.class)
                .hasMessage("two holds 2 images but labels holds 1 labels");
        Path oneImage = write("one", idx(0x803, new int[] {1, 1, 1}, new byte[1]), false);
        Path badLabel = write("bad", idx(0x801, new int[] {1}, new byte[] {7}), false);
        assertThatThrownBy(() -> IdxImages.read(oneImage, badLabel, CLASSES)).isInstanceOf(BagNetException.class)
                .hasMessage("bad: label 7 of image 0 is not a class of the 3 the models know");
    }

    private void assertRefused(byte[] images, Path labels, String message) throws IOException {
        Path file = write("images", images, false);
        assertThatThrownBy(() -> IdxImages.read(file, labels, CLASSES)).isInstanceOf(BagNetException.class)
                .hasMessage("images: " + message);
    }

    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        Arrays.stream(dims).forEach(b::putInt);
        return b.put(data).array();
    }

    private Path write(String name, byte[] bytes, boolean gzip) throws IOException {
        byte[] content = bytes;
        if (gzip) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream z = new GZIPOutputStream(out)) {
                z.write(bytes);
            }
            content = out.toByteArray();
        }
        return Files.write(dir.resolve(name), content);
    }
}
