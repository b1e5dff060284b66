package org.bagnet4j.weights;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.bagnet4j.BagNetException;

/**
 * A PyTorch checkpoint ({@code torch.save} of a state_dict) read without PyTorch and without running anything
 * from it ({@link Unpickler}): torch's zip format (since 1.6) and the legacy one, storages saved on any device,
 * either byte order, tensors that are views into shared storages; float16, bfloat16, float64 and integer tensors
 * converted to float32. A {@code {"state_dict": ...}} or {@code {"model": ...}} wrapper and a {@code module.}
 * prefix are taken off.
 */
public final class TorchCheckpoint implements AutoCloseable {
    /** The legacy format's first pickle: this number. */
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    private static final int MAX_PICKLE_BYTES = 256 << 20;
    /** Elements a file may hold beyond one per byte: room for small files' views into shared storages. */
    private static final long MIN_ELEMENT_BUDGET = 1 << 20;
    private static final Map<String, String> DTYPES = Map.ofEntries(Map.entry("torch.FloatStorage", "float32"),
            Map.entry("torch.HalfStorage", "float16"), Map.entry("torch.BFloat16Storage", "bfloat16"),
            Map.entry("torch.DoubleStorage", "float64"), Map.entry("torch.LongStorage", "int64"),
            Map.entry("torch.IntStorage", "int32"), Map.entry("torch.ShortStorage", "int16"),
            Map.entry("torch.CharStorage", "int8"), Map.entry("torch.ByteStorage", "uint8"),
            Map.entry("torch.BoolStorage", "bool"));

    /** One tensor: its dtype in the file (float32, float16, bfloat16, float64, int64, ...), shape and values. */
    public record Tensor(String dtype, int[] shape, float[] values) {
    }

    /** A storage a persistent id names: its element type, its key in the file, and its element count. */
    private record Storage(String dtype, String key, long elements) {
        int elementSize() {
            return switch (dtype) {
                case "float64", "int64" -> 8;
                case "float32", "int32" -> 4;
                case "float16", "bfloat16", "int16" -> 2;
                default -> 1;
            };
        }
    }

    /** A state_dict tensor before its values are read: its dtype in the file and its shape. */
    public record Entry(String dtype, int[] shape) {
    }

    /** Where a tensor's elements are: a view into a storage. */
    private record View(Unpickler.TensorView view, Storage storage, int[] shape) {
    }

    /** The container's parts: the unpickled root, each storage's bytes, and what to close. */
    private record Opened(String format, Object root, long fileSize, Function<Storage, ByteBuffer> data,
            Closeable resource) {
    }

    private final String where;
    private final String format;
    private final Map<String, View> views;
    private final Function<Storage, ByteBuffer> data;
    private final Closeable resource;

    private TorchCheckpoint(String where, String format, Map<String, View> views, Function<Storage, ByteBuffer> data,
            Closeable resource) {
        this.where = where;
        this.format = format;
        this.views = views;
        this.data = data;
        this.resource = resource;
    }

    /** Whether a file starts like a PyTorch checkpoint: a zip, or the legacy format's pickled magic number. */
    public static boolean recognizes(Path file) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) < 4) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        return head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4
                || (head[0] & 0xff) == 0x80 && head[2] == (byte) 0x8a && head[3] == 10;
    }

    /**
     * Opens a checkpoint: its pickle is read and checked, its tensors' names, dtypes and shapes known; values are
     * read tensor by tensor ({@link #values}), so that a large checkpoint is never held twice. Close it when done.
     */
    public static TorchCheckpoint open(Path file) {
        String where = file.getFileName() + ": ";
        return failingInOneLine(where, () -> {
            Opened opened = isZip(file) ? openZip(file) : openLegacy(file);
            try {
                return new TorchCheckpoint(where, opened.format(), stateDict(opened.root(), opened.fileSize()),
                        opened.data(),
                        opened.resource());
            } catch (RuntimeException e) {
                opened.resource().close();
                throw e;
            }
        });
    }

    /** Every tensor of a checkpoint by name, in the file's order, with its values. */
    public static Map<String, Tensor> read(Path file) {
        try (TorchCheckpoint checkpoint = open(file)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            checkpoint.entries().forEach((name, e) -> out.put(name, new Tensor(e.dtype(), e.shape(),
                    checkpoint.values(name))));
            return out;
        }
    }

    /** The state_dict's tensors, in the file's order: unwrapped, names without a module. prefix. */
    public Map<String, Entry> entries() {
        Map<String, Entry> out = new LinkedHashMap<>();
        views.forEach((name, v) -> out.put(name, new Entry(v.storage().dtype(), v.shape().clone())));
        return out;
    }

    /** "zip" (torch >= 1.6) or "legacy". */
    public String format() {
        return format;
    }

    /** The file's name, for messages. */
    public String name() {
        return where.substring(0, where.length() - 2);
    }

    /** A tensor's elements, in C order, as float32. */
    public float[] values(String name) {
        View v = views.get(name);
        if (v == null) {
            throw new BagNetException(where + "no tensor '" + name + "'");
        }
        return failingInOneLine(where, () -> values(name, v, data.apply(v.storage())));
    }

    @Override
    public void close() {
        try {
            resource.close();
        } catch (IOException e) {
            // Read-only: nothing is lost when closing fails.
        }
    }

    private interface Reading<T> {
        T run() throws IOException;
    }

    /** Runs a step, every problem a BagNetException naming the file, in one line. */
    private static <T> T failingInOneLine(String where, Reading<T> step) {
        try {
            return step.run();
        } catch (BagNetException e) {
            throw new BagNetException(where + e.getMessage());
        } catch (IOException e) {
            throw new BagNetException(where + "cannot read: " + BagNetException.reason(e));
        } catch (RuntimeException e) { // a zip library's complaint about a corrupt archive
            throw new BagNetException(where + "corrupt checkpoint (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static boolean isZip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && head[0] == 'P' && head[1] == 'K';
        }
    }

    /** The zip format: data.pkl, and one entry per storage under data/, read when a tensor needs it. */
    private static Opened openZip(Path file) throws IOException {
        ZipFile zip = new ZipFile(file.toFile());
        try {
            long fileSize = Files.size(file);
            String prefix = null;
            for (ZipEntry e : zip.stream().toList()) {
                if (e.getMethod() != ZipEntry.STORED) {
                    throw new BagNetException("zip entry '" + e.getName() + "' is compressed; torch.save stores "
                            + "its entries");
                }
                if (e.getSize() < 0 || e.getSize() > fileSize) {
                    throw new BagNetException("zip entry '" + e.getName() + "' claims " + e.getSize()
                            + " bytes, more than the file holds");
                }
                if (e.getName().endsWith("/constants.pkl") || e.getName().contains("/code/")) {
                    throw new BagNetException("a TorchScript archive, not a state_dict (save model.state_dict())");
                }
                if (e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().length() - 9) {
                    prefix = e.getName().substring(0, e.getName().length() - "data.pkl".length());
                }
            }
            if (prefix == null) {
                throw new BagNetException("a zip without the data.pkl of a PyTorch checkpoint");
            }
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            ByteOrder byteOrder = order != null && "big".equals(new String(entry(zip, order, 16),
                    StandardCharsets.US_ASCII).strip()) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            ByteBuffer pickle = ByteBuffer.wrap(entry(zip, zip.getEntry(prefix + "data.pkl"), MAX_PICKLE_BYTES));
            Object root = Unpickler.read(pickle, id -> storage(id, 5));
            String dataPrefix = prefix + "data/";
            return new Opened("zip", root, fileSize, s -> {
                ZipEntry e = zip.getEntry(dataPrefix + s.key());
                if (e == null) {
                    throw new BagNetException("storage '" + s.key() + "' has no zip entry");
                }
                return ByteBuffer.wrap(entry(zip, e, Integer.MAX_VALUE - 8)).order(byteOrder);
            }, zip);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }


    private static byte[] entry(ZipFile zip, ZipEntry e, long max) {
        if (e.getSize() > max) {
            throw new BagNetException("zip entry '" + e.getName() + "' is larger than " + max + " bytes");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] bytes = in.readNBytes((int) e.getSize());
            if (bytes.length != e.getSize()) {
                throw new BagNetException("zip entry '" + e.getName() + "' is shorter than its size says");
            }
            return bytes;
        } catch (IOException x) {
            throw new BagNetException("zip entry '" + e.getName() + "' cannot be read: " + BagNetException.reason(x));
        }
    }

    private static Object noStorage(Unpickler.Tuple id) {
        throw new BagNetException("a storage where a legacy header belongs");
    }
    private static Storage storage(Unpickler.Tuple id, int size) {
        if (id.items().size() != size || !"storage".equals(id.get(0))
                || !(id.get(1) instanceof Unpickler.Global(String type)) || !(id.get(2) instanceof String key)
                || !(id.get(4) instanceof Long elements) || elements < 0) {
            throw new BagNetException("a persistent id that is not a storage");
        }
        String dtype = DTYPES.get(type);
        if (dtype == null) {
            throw new BagNetException("a storage of type " + type);
        }
        return new Storage(dtype, key, elements);
    }

    /**
     * The legacy format: pickles of the magic number, the protocol version and the system's facts, then the
     * object, then the list of storage keys; then each storage as an 8-byte element count and its raw bytes. The
     * file is mapped, so a storage's bytes are read where they lie.
     */
    private static Opened openLegacy(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                throw new BagNetException("a legacy checkpoint larger than 2 GB (save it again with torch >= 1.6)");
            }
            ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            if (!LEGACY_MAGIC.equals(Unpickler.read(bytes, TorchCheckpoint::noStorage))) {
                throw new BagNetException("not a PyTorch checkpoint (no zip, no legacy magic number)");
            }
            if (!Long.valueOf(LEGACY_PROTOCOL).equals(Unpickler.read(bytes, TorchCheckpoint::noStorage))) {
                throw new BagNetException("a legacy checkpoint of an unknown protocol version");
            }
            Object info = Unpickler.read(bytes, TorchCheckpoint::noStorage);
            ByteOrder order = info instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("little_endian"))
                    ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            Map<String, Storage> storages = new HashMap<>();
            Object root = Unpickler.read(bytes, id -> {
                Storage s = storage(id, 6);
                if (id.get(5) != null) {
                    throw new BagNetException("a legacy storage view, which state_dicts saved since torch 0.4 "
                            + "do not use");
                }
                storages.put(s.key(), s);
                return s;
            });
            if (!(Unpickler.read(bytes, TorchCheckpoint::noStorage) instanceof List<?> keys)) {
                throw new BagNetException("a legacy checkpoint without its list of storages");
            }
            Map<String, ByteBuffer> data = new HashMap<>();
            for (Object key : keys) {
                Storage s = storages.get(key);
                if (s == null || bytes.remaining() < 8) {
                    throw new BagNetException("storage list names '" + key + "', which no tensor uses");
                }
                long elements = bytes.order(order).getLong();
                if (elements < 0 || elements > bytes.remaining() / s.elementSize()) {
                    throw new BagNetException("storage '" + key + "' claims " + elements
                            + " elements, more than the file holds");
                }
                int length = (int) (elements * s.elementSize());
                data.put(s.key(), bytes.slice(bytes.position(), length).order(order));
                bytes.position(bytes.position() + length);
            }
            return new Opened("legacy", root, channel.size(), s -> {
                ByteBuffer b = data.get(s.key());
                if (b == null) {
                    throw new BagNetException("storage '" + s.key() + "' is missing from the file");
                }
                return b;
            }, () -> { }); // the mapping outlives the channel and goes with the buffer
        }
    }

    /**
     * The state_dict's tensor views by name: unwrapped ({"state_dict": ...}, {"model": ...}), names without a
     * module. prefix, every value a tensor view whose shape is checked, and all of them together no more elements
     * than the file has bytes (views that repeat a storage's elements, e.g. stride 0, must not blow up memory).
     */
    private static Map<String, View> stateDict(Object root, long fileSize) {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new BagNetException("the checkpoint holds no dict of tensors");
        }
        for (String wrapper : List.of("state_dict", "model")) {
            if (dict.get(wrapper) instanceof Map<?, ?> inner) {
                dict = inner;
                break;
            }
        }
        Map<String, View> out = new LinkedHashMap<>();
        long budget = fileSize + MIN_ELEMENT_BUDGET;
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new BagNetException("a state_dict entry whose name is not a string");
            }
            if (!(e.getValue() instanceof Unpickler.TensorView t) || !(t.storage() instanceof Storage s)) {
                throw new BagNetException("state_dict entry '" + key + "' is not a tensor");
            }
            String name = key.startsWith("module.") ? key.substring("module.".length()) : key;
            int[] shape = shape(name, t);
            budget -= Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b);
            if (budget < 0) {
                throw new BagNetException("its tensors hold more elements than the file has bytes (views "
                        + "repeating a storage's elements, e.g. stride 0)");
            }
            if (out.put(name, new View(t, s, shape)) != null) {
                throw new BagNetException("tensor '" + name + "' appears twice (with and without 'module.')");
            }
        }
        return out;
    }

    /** A view's shape, checked: as many strides as sizes, fewer than 2^31 elements. */
    private static int[] shape(String name, Unpickler.TensorView t) {
        int rank = t.shape().length;
        if (t.stride().length != rank) {
            throw new BagNetException("tensor '" + name + "' has " + rank + " sizes but " + t.stride().length
                    + " strides");
        }
        long count = 1;
        int[] shape = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (t.shape()[d] > Integer.MAX_VALUE || t.stride()[d] > Integer.MAX_VALUE) {
                throw new BagNetException("tensor '" + name + "' has a size or stride beyond 2^31");
            }
            shape[d] = (int) t.shape()[d];
            count *= shape[d];
            if (count > Integer.MAX_VALUE - 8) {
                throw new BagNetException("tensor '" + name + "' has more than 2^31 elements");
            }
        }
        return shape;
    }

    /** A view's elements, in C order, as float32, after checking that they lie inside the storage. */
    private static float[] values(String name, View v, ByteBuffer data) {
        Unpickler.TensorView t = v.view();
        int[] shape = v.shape();
        long count = 1;
        long last = t.offset();
        for (int d = 0; d < shape.length; d++) {
            count *= shape[d];
            last += Math.max(0, shape[d] - 1) * t.stride()[d];
        }
        Storage s = v.storage();
        long available = Math.min(data.capacity() / s.elementSize(), s.elements());
        if (count > 0 && last >= available) {
            throw new BagNetException("tensor '" + name + "' reaches element " + last + " of a storage of "
                    + available);
        }
        float[] values = new float[(int) count];
        int[] index = new int[shape.length];
        long at = t.offset();
        for (int i = 0; i < values.length; i++) {
            values[i] = element(data, s.dtype(), (int) at * s.elementSize());
            for (int d = shape.length - 1; d >= 0; d--) { // the next index in C order, and its element
                if (++index[d] < shape[d]) {
                    at += t.stride()[d];
                    break;
                }
                at -= (long) (shape[d] - 1) * t.stride()[d];
                index[d] = 0;
            }
        }
        return values;
    }

    private static float element(ByteBuffer b, String dtype, int at) {
        return switch (dtype) {
            case "float32" -> b.getFloat(at);
            case "float16" -> Float.float16ToFloat(b.getShort(at));
            case "bfloat16" -> Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16);
            case "float64" -> (float) b.getDouble(at);
            case "int64" -> (float) b.getLong(at);
            case "int32" -> (float) b.getInt(at);
            case "int16" -> b.getShort(at);
            case "int8" -> b.get(at);
            default -> b.get(at) & 0xff; // uint8, bool
        };
    }
}
