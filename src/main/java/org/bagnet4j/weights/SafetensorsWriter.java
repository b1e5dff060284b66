package org.bagnet4j.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bagnet4j.BagNetException;

/** Writes float32 tensors and string metadata as a safetensors file. */
public final class SafetensorsWriter {
    /** A tensor to write: C-order values and their shape. */
    public record Tensor(int[] shape, float[] values) {
    }

    private SafetensorsWriter() {
    }

    public static void write(Path path, Map<String, String> metadata, Map<String, Tensor> tensors) {
        try (OutputStream out = Files.newOutputStream(path)) {
            write(out, metadata, tensors);
        } catch (IOException e) {
            throw new BagNetException("cannot write " + path + ": " + BagNetException.reason(e));
        }
    }

    /** The file's bytes, in memory. */
    public static byte[] toBytes(Map<String, String> metadata, Map<String, Tensor> tensors) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(out, metadata, tensors);
        } catch (IOException e) {
            throw new IllegalStateException(e); // a byte array does not fail
        }
        return out.toByteArray();
    }

    private static void write(OutputStream out, Map<String, String> metadata, Map<String, Tensor> tensors)
            throws IOException {
        StringBuilder header = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            header.append("\"__metadata__\":{");
            String sep = "";
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                header.append(sep).append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
                sep = ",";
            }
            header.append('}');
        }
        long offset = 0;
        Map<String, Long> begins = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long count = Arrays.stream(e.getValue().shape()).asLongStream().reduce(1, (a, b) -> a * b);
            if (count != e.getValue().values().length) {
                throw new BagNetException("tensor '" + e.getKey() + "' has " + e.getValue().values().length
                        + " values for shape " + Arrays.toString(e.getValue().shape()));
            }
            begins.put(e.getKey(), offset);
            header.append(header.length() > 1 ? "," : "").append(Json.quote(e.getKey()))
                    .append(":{\"dtype\":\"F32\",\"shape\":").append(Arrays.toString(e.getValue().shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + 4 * count).append("]}");
            offset += 4 * count;
        }
        header.append('}');
        int unpadded = header.toString().getBytes(StandardCharsets.UTF_8).length;
        header.append(" ".repeat((8 - unpadded % 8) % 8)); // keeps the data 8-byte aligned
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length);
        out.write(length.array());
        out.write(headerBytes);
        for (Tensor t : tensors.values()) {
            ByteBuffer data = ByteBuffer.allocate(4 * t.values().length).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().put(t.values());
            out.write(data.array());
        }
    }
}
