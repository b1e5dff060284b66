package org.bagnet4j.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bagnet4j.BagNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsTensorsAndMetadata() {
        Path file = dir.resolve("t.safetensors");
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", new SafetensorsWriter.Tensor(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        tensors.put("b.c", new SafetensorsWriter.Tensor(new int[] {1}, new float[] {7}));
        SafetensorsWriter.write(file, Map.of("k", "v \"quoted\" é"), tensors);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsEntry("k", "v \"quoted\" é");
            assertThat(f.entries().keySet()).containsExactly("a", "b.c");
            assertThat(f.entries().get("a").shape()).containsExactly(2, 3);
            assertThat(f.readFloats("a")).containsExactly(1, 2, 3, 4, 5, -6.5f);
            assertThat(f.readFloats("b.c")).containsExactly(7);
        }
    }

    private Path raw(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = dir.resolve("raw.safetensors");
        Files.write(file, b.array());
        return file;
    }

    private static void assertFails(Path file, String message) {
        assertThatThrownBy(() -> SafetensorsFile.open(file).close()).isInstanceOf(BagNetException.class)
                .hasMessageContaining(message).satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void rejectsCorruptFilesWithOneLine() throws IOException {
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[3]);
        assertFails(empty, "too short");
        assertFails(dir.resolve("missing.safetensors"), "not found");

        Path huge = dir.resolve("huge");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertFails(huge, "header length field says 1099511627776 bytes");

        assertFails(raw("{not json", 0), "corrupt safetensors header");
        assertFails(raw("[1,2]", 0), "not a JSON object");
        assertFails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1000000,1000000],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w': data_offsets span 4 bytes");
        assertFails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                "tensor 'w': data ends at byte 16 but the file holds only 8 bytes");
        assertFails(raw("{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unknown dtype Q7");
        assertFails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "bad shape");
        assertFails(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "bad data_offsets");
        assertFails(raw("{\"__metadata__\":{\"a\":1}}", 0), "is not a string");
        assertFails(raw("[".repeat(100_000), 0), "nesting deeper than");
    }

    /** Overlapping, shifted or gapped tensors are refused: the data must be tiled exactly, in offset order. */
    @Test
    void requiresTheStandardContiguousLayout() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
        String b = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
        assertFails(raw("{" + a + "[0,8]}," + b + "[4,12]}}", 12), "tensor 'b' starts at data byte 4 but the tensor "
                + "before it ends at 8");
        assertFails(raw("{" + a + "[0,8]}," + b + "[0,8]}}", 8), "starts at data byte 0 but the tensor before it "
                + "ends at 8");
        assertFails(raw("{" + a + "[4,12]}}", 12), "tensor 'a' starts at data byte 4 but the tensor before it ends at 0");
        assertFails(raw("{" + a + "[0,8]}," + b + "[12,20]}}", 20), "starts at data byte 12");
        assertFails(raw("{" + a + "[0,8]}}", 12), "the tensors' data ends at byte 8 but the file has 12 bytes of data");
        try (SafetensorsFile f = SafetensorsFile.open(raw("{" + b + "[8,16]}," + a + "[0,8]}}", 16))) {
            assertThat(f.entries().keySet()).as("header order need not be offset order").containsExactly("b", "a");
        }
    }

    @Test
    void refusesToReadOtherDtypesAsFloat() throws IOException {
        Path file = raw("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThatThrownBy(() -> f.readFloats("h")).hasMessageContaining("tensor 'h' has dtype F16");
            assertThatThrownBy(() -> f.readFloats("nope")).hasMessageContaining("missing tensor 'nope'");
        }
    }

    @Test
    void truncatedModelFileNamesTheTensor() throws IOException {
        Path full = dir.resolve("full.safetensors");
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("first", new SafetensorsWriter.Tensor(new int[] {4}, new float[4]));
        tensors.put("second", new SafetensorsWriter.Tensor(new int[] {4}, new float[4]));
        SafetensorsWriter.write(full, Map.of(), tensors);
        byte[] bytes = Files.readAllBytes(full);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 5));
        assertFails(cut, "tensor 'second': data ends at byte 32 but the file holds only 27 bytes");
    }
}
