package org.bagnet4j.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.BagNetException;

/**
 * Reads a safetensors file (or the same bytes in memory): an 8-byte little-endian header length, a JSON header naming every tensor's dtype,
 * shape and byte range, then the raw little-endian data. Every claim of the header is checked against the real
 * file size before anything is allocated, so a corrupt or truncated file fails with one line naming the problem.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation refuses larger headers too. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(Map.entry("BOOL", 1),
            Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4), Map.entry("F64", 8),
            Map.entry("I64", 8), Map.entry("U64", 8));

    /** One tensor of the header; offsets are relative to the start of the data section. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Where the bytes come from: a file, or an array (a model inside the jar). */
    private interface ByteSource extends AutoCloseable {
        long size() throws IOException;

        /** Fills {@code buffer} from {@code position}; fails at the end of the source. */
        void read(ByteBuffer buffer, long position) throws IOException;

        @Override
        void close();
    }

    private record FileSource(FileChannel channel) implements ByteSource {
        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void read(ByteBuffer buffer, long position) throws IOException {
            long pos = position;
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, pos);
                if (n < 0) {
                    throw new IOException("unexpected end of file");
                }
                pos += n;
            }
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was written; a failed close loses nothing
            }
        }
    }

    private record ArraySource(byte[] bytes) implements ByteSource {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(ByteBuffer buffer, long position) throws IOException {
            if (position + buffer.remaining() > bytes.length) {
                throw new IOException("unexpected end of data");
            }
            buffer.put(bytes, (int) position, buffer.remaining());
        }

        @Override
        public void close() {
        }
    }

    private final Path path;
    private final ByteSource source;
    private final long dataStart;
    private final Map<String, String> metadata;
    private final Map<String, Entry> entries;

    private SafetensorsFile(Path path, ByteSource source, long dataStart, Map<String, String> metadata,
            Map<String, Entry> entries) {
        this.path = path;
        this.source = source;
        this.dataStart = dataStart;
        this.metadata = metadata;
        this.entries = entries;
    }

    /** Opens and validates the header of a safetensors file. */
    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new BagNetException("model file not found: " + path);
        } catch (IOException e) {
            throw new BagNetException("cannot open model file " + path + ": " + BagNetException.reason(e));
        }
        return parse(path, new FileSource(channel));
    }

    /** Reads safetensors held in memory; {@code name} stands for the file in messages. */
    public static SafetensorsFile of(byte[] bytes, String name) {
        return parse(Path.of(name), new ArraySource(bytes));
    }

    private static SafetensorsFile parse(Path path, ByteSource source) {
        try {
            return parseHeader(path, source);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    private static SafetensorsFile parseHeader(Path path, ByteSource source) {
        String where = path.getFileName() + ": ";
        try {
            long size = source.size();
            if (size < 8) {
                throw new BagNetException(where + "file has " + size + " bytes, too short to be safetensors");
            }
            ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            source.read(lengthField, 0);
            long headerLength = lengthField.flip().getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new BagNetException(where + "header length field says " + headerLength + " bytes but the file has "
                        + (size - 8) + " after it (not a safetensors file, or truncated)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            source.read(header, 8);
            Object json;
            try {
                json = Json.parse(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new BagNetException(where + "corrupt safetensors header: " + e.getMessage());
            }
            if (!(json instanceof Map<?, ?> top)) {
                throw new BagNetException(where + "corrupt safetensors header: not a JSON object");
            }
            long dataSize = size - 8 - headerLength;
            Map<String, String> metadata = Map.of();
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : top.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    metadata = parseMetadata(where, e.getValue());
                } else {
                    entries.put(name, parseEntry(where, name, e.getValue(), dataSize));
                }
            }
            checkLayout(where, entries, dataSize);
            return new SafetensorsFile(path, source, 8 + headerLength, metadata, Collections.unmodifiableMap(entries));
        } catch (IOException e) {
            throw new BagNetException(where + "cannot read: " + BagNetException.reason(e));
        }
    }

    /**
     * The standard's layout: the tensors' byte ranges, in offset order, tile the data section exactly, with no gap,
     * overlap or trailing bytes, so that no byte is read twice or for two tensors.
     */
    private static void checkLayout(String where, Map<String, Entry> entries, long dataSize) {
        List<Entry> byOffset = entries.values().stream()
                .sorted(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end)).toList();
        long expected = 0;
        for (Entry e : byOffset) {
            if (e.begin() != expected) {
                throw new BagNetException(where + "tensor '" + e.name() + "' starts at data byte " + e.begin()
                        + " but the tensor before it ends at " + expected + " (data must be contiguous, without gaps "
                        + "or overlaps)");
            }
            expected = e.end();
        }
        if (expected != dataSize) {
            throw new BagNetException(where + "the tensors' data ends at byte " + expected + " but the file has "
                    + dataSize + " bytes of data");
        }
    }

    private static Map<String, String> parseMetadata(String where, Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new BagNetException(where + "__metadata__ is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new BagNetException(where + "__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            metadata.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry parseEntry(String where, String name, Object value, long dataSize) {
        String at = where + "tensor '" + name + "': ";
        if (!(value instanceof Map<?, ?> map)) {
            throw new BagNetException(at + "header entry is not a JSON object");
        }
        if (!(map.get("dtype") instanceof String dtype) || !DTYPE_BYTES.containsKey(dtype)) {
            throw new BagNetException(at + "unknown dtype " + map.get("dtype"));
        }
        if (!(map.get("shape") instanceof List<?> shapeList) || shapeList.size() > 8) {
            throw new BagNetException(at + "shape is missing or not a list of at most 8 dimensions");
        }
        int[] shape = new int[shapeList.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new BagNetException(at + "bad shape " + shapeList);
            }
            shape[i] = (int) (long) d;
            try {
                elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException overflow) {
                elements = Long.MAX_VALUE;
            }
        }
        if (!(map.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)
                || begin < 0 || end < begin) {
            throw new BagNetException(at + "bad data_offsets " + map.get("data_offsets"));
        }
        if (end > dataSize) {
            throw new BagNetException(at + "data ends at byte " + end + " but the file holds only " + dataSize
                    + " bytes of data (truncated file?)");
        }
        long width = DTYPE_BYTES.get(dtype);
        if (elements > Long.MAX_VALUE / width || end - begin != elements * width) {
            throw new BagNetException(at + "data_offsets span " + (end - begin) + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + (elements > Long.MAX_VALUE / width
                            ? "more than the file" : Long.toString(elements * width)));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor entry, in header order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** Reads a float32 tensor's values in C order. */
    public float[] readFloats(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new BagNetException(path.getFileName() + ": missing tensor '" + name + "'");
        }
        if (!e.dtype().equals("F32")) {
            throw new BagNetException(path.getFileName() + ": tensor '" + name + "' has dtype " + e.dtype()
                    + "; bagnet4j reads F32 only");
        }
        if (e.elements() > (Integer.MAX_VALUE - 16) / 4) {
            throw new BagNetException(path.getFileName() + ": tensor '" + name + "' is too large for one array");
        }
        float[] values = new float[(int) e.elements()];
        if (values.length == 0) {
            return values;
        }
        try {
            ByteBuffer bytes = ByteBuffer.allocate((int) (e.end() - e.begin()));
            source.read(bytes, dataStart + e.begin());
            bytes.flip().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        } catch (IOException ex) {
            throw new BagNetException(path.getFileName() + ": cannot read tensor '" + name + "': "
                    + BagNetException.reason(ex));
        }
        return values;
    }

    @Override
    public void close() {
        source.close();
    }
}
