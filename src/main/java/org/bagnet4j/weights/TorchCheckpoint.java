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
 * from it ({@link Unpickler}): torch's zip format (since 1.6, with its byteorder entry) and the legacy one
 * (little-endian), storages saved on any device, tensors that are views into shared storages; float16, bfloat16,
 * float64 and integer tensors converted to float32. A {@code {"state_dict": ...}} or {@code {"model": ...}}
 * wrapper and a {@code module.} prefix are taken off. Opening reads the pickle; values are read tensor by tensor.
 */
public final class TorchCheckpoint implements AutoCloseable {
    /** The legacy format's first pickle: this number. */
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;
    /** A state_dict's pickle is kilobytes to a few megabytes: this bounds the memory its values take. */
    private static final int MAX_PICKLE_BYTES = 16 << 20;
    /** Elements a file may hold beyond one per byte: room for small files' views into shared storages. */
    private static final long MIN_ELEMENT_BUDGET = 1 << 20;

    /** The element types of torch's storage classes, with how one element becomes a float. */
    private enum Dtype {
        FLOAT32("torch.FloatStorage", 4), FLOAT16("torch.HalfStorage", 2), BFLOAT16("torch.BFloat16Storage", 2),
        FLOAT64("torch.DoubleStorage", 8), INT64("torch.LongStorage", 8), INT32("torch.IntStorage", 4),
        INT16("torch.ShortStorage", 2), INT8("torch.CharStorage", 1), UINT8("torch.ByteStorage", 1),
        BOOL("torch.BoolStorage", 1);

        final String storageClass;
        final int size;

        Dtype(String storageClass, int size) {
            this.storageClass = storageClass;
            this.size = size;
        }

        static Dtype of(String storageClass) {
            for (Dtype d : values()) {
                if (d.storageClass.equals(storageClass)) {
                    return d;
                }
            }
            throw new BagNetException("a storage of type " + storageClass);
        }

        /** torch's name: float32, float16, ... */
        String torchName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        float read(ByteBuffer b, int at) {
            return switch (this) {
                case FLOAT32 -> b.getFloat(at);
                case FLOAT16 -> Float.float16ToFloat(b.getShort(at));
                case BFLOAT16 -> Float.intBitsToFloat((b.getShort(at) & 0xffff) << 16);
                case FLOAT64 -> (float) b.getDouble(at);
                case INT64 -> (float) b.getLong(at);
                case INT32 -> (float) b.getInt(at);
                case INT16 -> b.getShort(at);
                case INT8 -> b.get(at);
                case UINT8, BOOL -> b.get(at) & 0xff;
            };
        }
    }

    /** One tensor: its dtype in the file (float32, float16, bfloat16, float64, int64, ...), shape and values. */
    public record Tensor(String dtype, int[] shape, float[] values) {
    }

    /** A state_dict tensor before its values are read: its dtype in the file and its shape. */
    public record Entry(String dtype, int[] shape) {
    }

    /** A storage a persistent id names: its element type, its key in the file, and its element count. */
    private record Storage(Dtype dtype, String key, long elements) {
    }

    /** Where a tensor's elements are: a view into a storage, its element count and the index of its last one. */
    private record View(Unpickler.TensorView view, Storage storage, int[] shape, int elements, long last) {
    }

    /** The container's parts: the unpickled root, each storage's bytes, and what to close. */
    private record Opened(String format, Object root, long fileSize, Function<Storage, ByteBuffer> data,
            Closeable resource) {
    }

    private final String file;
    private final String format;
    private final Map<String, View> views;
    private final Function<Storage, ByteBuffer> data;
    private final Closeable resource;
    /** The storage read last, kept: a storage's views usually follow each other. */
    private Storage lastStorage;
    private ByteBuffer lastData;

    private TorchCheckpoint(String file, Opened opened, Map<String, View> views) {
        this.file = file;
        this.format = opened.format();
        this.views = views;
        this.data = opened.data();
        this.resource = opened.resource();
    }

    /** Whether a file starts like a PyTorch checkpoint: a zip, or the legacy format's pickled magic number. */
    public static boolean recognizes(Path file) {
        byte[] head = head(file);
        return isZip(head) || (head[0] & 0xff) == 0x80 && head[2] == (byte) 0x8a && head[3] == 10;
    }

    /**
     * Opens a checkpoint: its pickle is read and checked, its tensors' names, dtypes and shapes known; values are
     * read tensor by tensor ({@link #values}), so that a large checkpoint is never held twice. Close it when done.
     */
    public static TorchCheckpoint open(Path file) {
        String name = file.getFileName().toString();
        return failingInOneLine(name, () -> {
            Opened opened = isZip(head(file)) ? openZip(file) : openLegacy(file);
            boolean done = false;
            try {
                TorchCheckpoint checkpoint = new TorchCheckpoint(name, opened, stateDict(opened.root(),
                        opened.fileSize()));
                done = true;
                return checkpoint;
            } finally {
                if (!done) {
                    opened.resource().close();
                }
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
        views.forEach((name, v) -> out.put(name, new Entry(v.storage().dtype().torchName(), v.shape().clone())));
        return out;
    }

    /** "zip" (torch >= 1.6) or "legacy". */
    public String format() {
        return format;
    }

    /** The file's name, for messages. */
    public String name() {
        return file;
    }

    /** A tensor's elements, in C order, as float32. */
    public float[] values(String name) {
        View v = views.get(name);
        if (v == null) {
            throw new BagNetException(file + ": no tensor '" + name + "'");
        }
        return failingInOneLine(file, () -> {
            if (!v.storage().equals(lastStorage)) {
                lastData = null; // the previous storage's bytes may go before the next are read
                lastData = data.apply(v.storage());
                lastStorage = v.storage();
            }
            return values(name, v, lastData);
        });
    }

    @Override
    public void close() {
        lastData = null;
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
    private static <T> T failingInOneLine(String file, Reading<T> step) {
        try {
            return step.run();
        } catch (BagNetException e) {
            throw new BagNetException(file + ": " + e.getMessage());
        } catch (IOException e) {
            throw new BagNetException(file + ": cannot read: " + BagNetException.reason(e));
        } catch (RuntimeException e) { // a zip library's complaint about a corrupt archive
            throw new BagNetException(file + ": corrupt checkpoint (" + e.getClass().getSimpleName() + ")");
        } catch (InternalError e) { // how the JVM reports a mapped file cut short under it (SIGBUS)
            throw new BagNetException(file + ": the file was cut short while it was read");
        }
    }

    /** The file's first four bytes (zeros where it is shorter or unreadable). */
    private static byte[] head(Path file) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            in.readNBytes(head, 0, 4);
        } catch (IOException e) {
            // Not recognized; opening says why.
        }
        return head;
    }

    private static boolean isZip(byte[] head) {
        return head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /**
     * The zip format: data.pkl, and one entry per storage under data/, read when a tensor needs it. Its storages
     * together may be read at most a few times over (views that alternate between storages re-read them).
     */
    private static Opened openZip(Path file) throws IOException {
        ZipFile zip = new ZipFile(file.toFile());
        boolean done = false;
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
            ByteOrder byteOrder = byteOrder(zip, zip.getEntry(prefix + "byteorder"));
            ByteBuffer pickle = ByteBuffer.wrap(entry(zip, zip.getEntry(prefix + "data.pkl"), MAX_PICKLE_BYTES));
            Object root = Unpickler.read(pickle, id -> storage(id, 5));
            String dataPrefix = prefix + "data/";
            long[] readable = {4 * fileSize + (64L << 20)};
            Opened opened = new Opened("zip", root, fileSize, s -> {
                ZipEntry e = zip.getEntry(dataPrefix + s.key());
                if (e == null) {
                    throw new BagNetException("storage '" + s.key() + "' has no zip entry");
                }
                readable[0] -= e.getSize();
                if (readable[0] < 0) {
                    throw new BagNetException("its tensors read their storages over and over (views alternating "
                            + "between storages)");
                }
                return ByteBuffer.wrap(entry(zip, e, Integer.MAX_VALUE - 8)).order(byteOrder);
            }, zip);
            done = true;
            return opened;
        } finally {
            if (!done) {
                zip.close();
            }
        }
    }

    /** The byteorder entry: "little" or "big"; without one, little-endian (torch before 2.1 wrote none). */
    private static ByteOrder byteOrder(ZipFile zip, ZipEntry entry) {
        if (entry == null) {
            return ByteOrder.LITTLE_ENDIAN;
        }
        return switch (new String(entry(zip, entry, 16), StandardCharsets.US_ASCII).strip()) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new BagNetException("its byteorder entry names an unknown byte order");
        };
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

    /**
     * The legacy format: pickles of the magic number, the protocol version and the system's facts, then the
     * object, then the list of storage keys; then each storage as an 8-byte element count and its raw bytes, both
     * little-endian whatever the system (as torch writes and reads them). The file is mapped, so a storage's bytes
     * are read where they lie.
     */
    private static Opened openLegacy(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                throw new BagNetException("a legacy checkpoint larger than 2 GB (save it again with torch >= 1.6)");
            }
            ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size())
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (!LEGACY_MAGIC.equals(pickle(bytes, TorchCheckpoint::noStorage))) {
                throw new BagNetException("not a PyTorch checkpoint (no zip, no legacy magic number)");
            }
            if (!Long.valueOf(LEGACY_PROTOCOL).equals(pickle(bytes, TorchCheckpoint::noStorage))) {
                throw new BagNetException("a legacy checkpoint of an unknown protocol version");
            }
            pickle(bytes, TorchCheckpoint::noStorage); // the saving system's facts, which loading ignores
            Map<String, Storage> storages = new HashMap<>();
            Object root = pickle(bytes, id -> {
                Storage s = storage(id, 6);
                if (id.get(5) != null) {
                    throw new BagNetException("a legacy storage view, which state_dicts saved since torch 0.4 "
                            + "do not use");
                }
                storages.put(s.key(), s);
                return s;
            });
            if (!(pickle(bytes, TorchCheckpoint::noStorage) instanceof List<?> keys)) {
                throw new BagNetException("a legacy checkpoint without its list of storages");
            }
            Map<String, ByteBuffer> data = new HashMap<>();
            for (Object key : keys) {
                Storage s = key instanceof String k ? storages.get(k) : null;
                if (s == null || bytes.remaining() < 8) {
                    throw new BagNetException("its storage list names a storage no tensor uses");
                }
                long elements = bytes.getLong();
                if (elements < 0 || elements > bytes.remaining() / s.dtype().size) {
                    throw new BagNetException("storage '" + s.key() + "' claims " + elements
                            + " elements, more than the file holds");
                }
                int length = (int) (elements * s.dtype().size);
                data.put(s.key(), bytes.slice(bytes.position(), length).order(ByteOrder.LITTLE_ENDIAN));
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

    /** One pickle of a legacy file, read within {@link #MAX_PICKLE_BYTES} of where it starts. */
    private static Object pickle(ByteBuffer bytes, Function<Unpickler.Tuple, Object> persistentLoad) {
        int limit = bytes.limit();
        bytes.limit((int) Math.min(limit, (long) bytes.position() + MAX_PICKLE_BYTES));
        try {
            return Unpickler.read(bytes, persistentLoad);
        } finally {
            bytes.limit(limit);
        }
    }

    private static Object noStorage(Unpickler.Tuple id) {
        throw new BagNetException("a storage where a legacy header belongs");
    }

    /** ('storage', StorageClass, key, location, numel[, view]): the storage, checked (any device is fine). */
    private static Storage storage(Unpickler.Tuple id, int size) {
        if (id.items().size() != size || !"storage".equals(id.get(0))
                || !(id.get(1) instanceof Unpickler.Global(String type)) || !(id.get(2) instanceof String key)
                || !(id.get(4) instanceof Long elements) || elements < 0) {
            throw new BagNetException("a persistent id that is not a storage");
        }
        return new Storage(Dtype.of(type), key, elements);
    }

    /**
     * The state_dict's tensor views by name: unwrapped ({"state_dict": ...}, {"model": ...}), names without a
     * module. prefix, every value a tensor view whose shape is checked, and all of them together at most one
     * element per byte of the file (plus {@link #MIN_ELEMENT_BUDGET}): views that repeat a storage's elements
     * (stride 0) must not blow up memory.
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
            View view = view(name, t, s);
            budget -= view.elements();
            if (budget < 0) {
                throw new BagNetException("its tensors hold more elements than the file has bytes (views "
                        + "repeating a storage's elements, e.g. stride 0)");
            }
            if (out.put(name, view) != null) {
                throw new BagNetException("tensor '" + name + "' appears twice (with and without 'module.')");
            }
        }
        return out;
    }

    /**
     * A tensor's view, checked: as many strides as sizes, fewer than 2^31 elements, and (when it has any) its last
     * element inside the storage's declared size, computed without overflow.
     */
    private static View view(String name, Unpickler.TensorView t, Storage s) {
        int rank = t.shape().length;
        if (t.stride().length != rank) {
            throw new BagNetException("tensor '" + name + "' has " + rank + " sizes but " + t.stride().length
                    + " strides");
        }
        long count = 1;
        long last = t.offset();
        int[] shape = new int[rank];
        try {
            for (int d = 0; d < rank; d++) {
                if (t.shape()[d] > Integer.MAX_VALUE) {
                    throw new BagNetException("tensor '" + name + "' has a size beyond 2^31");
                }
                shape[d] = (int) t.shape()[d];
                count = Math.multiplyExact(count, shape[d]);
                last = Math.addExact(last, Math.multiplyExact(Math.max(0, shape[d] - 1), t.stride()[d]));
            }
        } catch (ArithmeticException e) {
            throw new BagNetException("tensor '" + name + "' reaches beyond any storage");
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new BagNetException("tensor '" + name + "' has more than 2^31 elements");
        }
        if (count > 0 && last >= s.elements()) {
            throw new BagNetException("tensor '" + name + "' reaches element " + last + " of a storage of "
                    + s.elements());
        }
        return new View(t, s, shape, (int) count, last);
    }

    /** A view's elements, in C order, as float32, after checking that they lie inside the storage's bytes. */
    private static float[] values(String name, View v, ByteBuffer data) {
        Unpickler.TensorView t = v.view();
        int[] shape = v.shape();
        Dtype dtype = v.storage().dtype();
        float[] values = new float[v.elements()];
        long available = data.capacity() / dtype.size;
        if (values.length > 0 && v.last() >= available) {
            throw new BagNetException("tensor '" + name + "' reaches element " + v.last() + " of a storage of "
                    + available);
        }
        int[] index = new int[shape.length];
        long at = t.offset();
        for (int i = 0; i < values.length; i++) {
            values[i] = dtype.read(data, (int) (at * dtype.size));
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
}
