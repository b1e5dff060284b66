package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.bagnet4j.BagNetException;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.tensor.Npy;
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

    /**
     * Every fixture of weights-converter/reference_checkpoints.py, in both serializations (state_dicts with
     * _metadata, every dtype, views into one storage, a 'cuda:0' location, wrappers, DataParallel's prefix): the
     * names, dtypes, shapes and values PyTorch reads, to the bit; the hostile ones refused by name.
     */
    @Test
    void everyFixtureReadsAsPyTorchReadsIt() throws IOException {
        Path dir = ReferenceFixtures.checkpoints();
        for (String serialization : List.of("zip", "legacy")) {
            for (String kind : List.of("state_dict", "dtypes", "views", "cuda", "wrapped-state_dict",
                    "wrapped-model", "module-prefix")) {
                String name = serialization + "-" + kind;
                Map<String, TorchCheckpoint.Tensor> read = TorchCheckpoint.read(dir.resolve(name + ".pth"));
                Path expected = dir.resolve(name + ".expected");
                List<String> index = Files.readAllLines(expected.resolve("index.tsv"));
                assertThat(read.keySet()).as(name).containsExactlyElementsOf(index.stream()
                        .map(line -> stateDictName(line.split("\t", -1)[0])).toList());
                for (String line : index) {
                    String[] fields = line.split("\t", -1); // a 0-d tensor's shape is the empty last field
                    TorchCheckpoint.Tensor t = read.get(stateDictName(fields[0]));
                    Npy.Array values = Npy.read(expected.resolve(fields[0] + ".npy"));
                    assertThat(t.dtype()).as(name + ": " + line).isEqualTo(fields[1].substring("torch.".length()));
                    assertThat(t.shape()).as(name + ": " + line).isEqualTo(values.shape());
                    assertThat(t.values()).as(name + ": " + line).isEqualTo(values.data());
                }
            }
            assertThatThrownBy(() -> TorchCheckpoint.read(dir.resolve(serialization + "-system.pth")))
                    .hasMessageEndingWith("refusing checkpoint: it references posix.system, which a weights file "
                            + "never needs");
            assertThatThrownBy(() -> TorchCheckpoint.read(dir.resolve(serialization + "-eval.pth")))
                    .hasMessageEndingWith("refusing checkpoint: it references __builtin__.eval, which a weights "
                            + "file never needs");
            assertThat(dir.resolve(serialization + "-system.marker")).doesNotExist();
            assertThat(dir.resolve(serialization + "-eval.marker")).doesNotExist();
        }
    }

    /** The name a tensor has once its wrapper ({"state_dict": ...}, {"model": ...}) and module. prefix are off. */
    private static String stateDictName(String path) {
        String name = path.replaceFirst("^(state_dict|model)\\.", "");
        return name.startsWith("module.") ? name.substring("module.".length()) : name;
    }

    /** A legacy file (read where it lies, mapped) cut short by another program while open: one line, no crash. */
    @Test
    void aLegacyFileCutShortWhileOpenFailsInOneLine() throws IOException {
        Path copy = dir.resolve("cut.pth");
        Files.copy(ReferenceFixtures.checkpoints().resolve("legacy-dtypes.pth"), copy);
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(copy);
                var channel = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(4096);
            assertThatThrownBy(() -> {
                for (String name : checkpoint.entries().keySet()) {
                    checkpoint.values(name);
                }
            }).isInstanceOf(BagNetException.class).hasMessage("cut.pth: the file was cut short while it was read");
        }
    }

    /**
     * A zip checkpoint whose storages are big-endian (its byteorder entry says so; torch 1.13 cannot write one, so
     * it is made from a little-endian one by swapping every float's bytes) reads as the original.
     */
    @Test
    void bigEndianStoragesReadAsTheirLittleEndianOriginal() throws IOException {
        Path original = ReferenceFixtures.checkpoints().resolve("zip-cuda.pth"); // float32 tensors only
        Path big = dir.resolve("big-endian.pth");
        rezip(original, big, ZipEntry.STORED, (name, bytes) -> {
            if (!name.contains("/data/")) {
                return bytes;
            }
            byte[] swapped = bytes.clone();
            for (int i = 0; i + 4 <= swapped.length; i += 4) {
                for (int j = 0; j < 4; j++) {
                    swapped[i + j] = bytes[i + 3 - j];
                }
            }
            return swapped;
        }, "byteorder", "big");
        Map<String, TorchCheckpoint.Tensor> expected = TorchCheckpoint.read(original);
        Map<String, TorchCheckpoint.Tensor> read = TorchCheckpoint.read(big);
        assertThat(read.keySet()).containsExactlyElementsOf(expected.keySet());
        expected.forEach((name, t) -> assertThat(read.get(name).values()).as(name).isEqualTo(t.values()));
    }

    /** Compressed entries and storages shorter than their tensors are refused in one line. */
    @Test
    void lyingArchivesAreRefused() throws IOException {
        Path original = ReferenceFixtures.checkpoints().resolve("zip-state_dict.pth");
        Path deflated = dir.resolve("deflated.pth");
        rezip(original, deflated, ZipEntry.DEFLATED, (name, bytes) -> bytes, null, null);
        assertThatThrownBy(() -> TorchCheckpoint.read(deflated)).hasMessageStartingWith("deflated.pth: zip entry '")
                .hasMessageEndingWith("' is compressed; torch.save stores its entries");
        Path shortened = dir.resolve("short.pth");
        rezip(original, shortened, ZipEntry.STORED, (name, bytes) -> name.endsWith("/data/0")
                ? Arrays.copyOf(bytes, bytes.length / 2) : bytes, null, null);
        assertThatThrownBy(() -> TorchCheckpoint.read(shortened)).hasMessageMatching(
                "short\\.pth: tensor '.*' reaches element \\d+ of a storage of \\d+");
    }

    /** Copies a zip checkpoint entry by entry through {@code change}, with one more entry if named. */
    private static void rezip(Path source, Path target, int method, BiFunction<String, byte[], byte[]> change,
            String extraName, String extraText) throws IOException {
        try (ZipFile in = new ZipFile(source.toFile());
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(target))) {
            String prefix = null;
            for (ZipEntry e : in.stream().toList()) {
                prefix = e.getName().substring(0, e.getName().indexOf('/') + 1);
                put(out, e.getName(), change.apply(e.getName(), in.getInputStream(e).readAllBytes()), method);
            }
            if (extraName != null) {
                put(out, prefix + extraName, extraText.getBytes(StandardCharsets.US_ASCII), ZipEntry.STORED);
            }
        }
    }

    private static void put(ZipOutputStream out, String name, byte[] bytes, int method) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(method);
        if (method == ZipEntry.STORED) {
            CRC32 crc = new CRC32();
            crc.update(bytes);
            entry.setSize(bytes.length);
            entry.setCrc(crc.getValue());
        }
        out.putNextEntry(entry);
        out.write(bytes);
        out.closeEntry();
    }

    /**
     * Hand-made hostile files (hostile_checkpoints.py): keys that would hash forever or overflow the stack, offsets
     * that overflow, a pickle of millions of values, a storage viewed 20,000 times: each refused in one line or
     * read, quickly; and a legacy file whose system was big-endian reads as torch reads it (storages are
     * little-endian whatever the system); and one as torch 0.3 under Python 2 wrote it (_rebuild_tensor,
     * OrderedDict of [key, value] lists, str keys) reads with its views.
     */
    @Test
    void handMadeFilesAreRefusedQuicklyOrRead() throws Exception {
        Path script = dir.resolve("hostile_checkpoints.py");
        try (var in = getClass().getResourceAsStream("hostile_checkpoints.py")) {
            Files.copy(in, script);
        }
        ReferenceFixtures.exec(List.of(ReferenceFixtures.python(), script.toString(), dir.toString()));
        Map<String, String> refusals = Map.of(
                "cyclic-key.pth", "corrupt pickle: a dict key that is not a string or a number",
                "deep-key.pth", "corrupt pickle: a dict key that is not a string or a number",
                "dag-key.pth", "corrupt pickle: a dict key that is not a string or a number",
                "hash-flood.pth", "corrupt pickle: a dict key that is not a string or a number",
                "offset-wraps.pth", "tensor 'w' reaches element 9223372034707292158 of a storage of 4",
                "offset-max.pth", "tensor 'w' reaches beyond any storage",
                "empty-lists.pth", "corrupt pickle: more than 4000000 values, far more than a state_dict has",
                "legacy-cyclic-storage-key.pth", "its storage list names a storage no tensor uses");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            refusals.forEach((file, message) -> assertThatThrownBy(() -> TorchCheckpoint.read(dir.resolve(file)))
                    .isInstanceOf(BagNetException.class).hasMessage(file + ": " + message));
            assertThat(TorchCheckpoint.read(dir.resolve("many-views.pth"))).hasSize(20000);
            assertThat(TorchCheckpoint.read(dir.resolve("legacy-big-endian-system.pth")).get("w").values())
                    .containsExactly(1.5f, -2.0f);
            Map<String, TorchCheckpoint.Tensor> old = TorchCheckpoint.read(dir.resolve("legacy-python2-torch03.pth"));
            assertThat(old.keySet()).containsExactly("a", "b");
            assertThat(old.get("a").shape()).containsExactly(2, 3);
            assertThat(old.get("a").values()).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(old.get("b").values()).containsExactly(0.5f, 2.0f, 1.0f, 2.5f);
        });
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
