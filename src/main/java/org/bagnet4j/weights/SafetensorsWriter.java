package org.bagnet4j.weights;

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
import java.util.function.Function;

import org.bagnet4j.BagNetException;

/** Writes float32 tensors and string metadata as a safetensors file. */
public final class SafetensorsWriter {
    /** Floats written at a time. */
    private static final int CHUNK = 1 << 16;
    /** A tensor to write: C-order values and their shape. */
    public record Tensor(int[] shape, float[] values) {
    }

    private SafetensorsWriter() {
    }

    public static void write(Path path, Map<String, String> metadata, Map<String, Tensor> tensors) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (t.values().length != count(t.shape())) { // before the file is created
                throw new BagNetException("tensor '" + name + "' has " + t.values().length + " values for shape "
                        + Arrays.toString(t.shape()));
            }
            shapes.put(name, t.shape());
        });
        write(path, metadata, shapes, name -> tensors.get(name).values());
    }

    /**
     * Writes the tensors {@code shapes} names, in its order, asking {@code values} for each one's values only when
     * it is written: a large model need not be held whole.
     */
    public static void write(Path path, Map<String, String> metadata, Map<String, int[]> shapes,
            Function<String, float[]> values) {
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
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            long count = count(e.getValue());
            header.append(header.length() > 1 ? "," : "").append(Json.quote(e.getKey()))
                    .append(":{\"dtype\":\"F32\",\"shape\":").append(Arrays.toString(e.getValue()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + 4 * count).append("]}");
            offset += 4 * count;
        }
        header.append('}');
        int unpadded = header.toString().getBytes(StandardCharsets.UTF_8).length;
        header.append(" ".repeat((8 - unpadded % 8) % 8)); // keeps the data 8-byte aligned
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer chunk = ByteBuffer.allocate(4 * CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerBytes.length).array());
            out.write(headerBytes);
            for (Map.Entry<String, int[]> e : shapes.entrySet()) {
                float[] v = values.apply(e.getKey());
                if (v.length != count(e.getValue())) {
                    throw new BagNetException("tensor '" + e.getKey() + "' has " + v.length + " values for shape "
                            + Arrays.toString(e.getValue()));
                }
                for (int from = 0; from < v.length; from += CHUNK) { // in chunks: no second copy of a large tensor
                    int n = Math.min(CHUNK, v.length - from);
                    chunk.clear();
                    chunk.asFloatBuffer().put(v, from, n);
                    out.write(chunk.array(), 0, 4 * n);
                }
            }
        } catch (IOException e) {
            throw new BagNetException("cannot write " + path + ": " + BagNetException.reason(e));
        }
    }

    private static long count(int[] shape) {
        return Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
    }
}
