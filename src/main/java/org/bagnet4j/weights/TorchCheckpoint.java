package org.bagnet4j.weights;

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
 * from it ({@link Unpickler}): torch's zip format (since 1.6) and the legacy one, storages saved on any device,
 * either byte order, tensors that are views into shared storages; float16, bfloat16, float64 and integer tensors
 * converted to float32. A {@code {"state_dict": ...}} or {@code {"model": ...}} wrapper and a {@code module.}
 * prefix are taken off.
 */
public final class TorchCheckpoint {
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

    private TorchCheckpoint() {
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

    /** The tensors of a checkpoint by name, in the file's order; every problem one line naming the file. */
    public static Map<String, Tensor> read(Path file) {
        String where = file.getFileName() + ": ";
        try {
            return stateDict(isZip(file) ? readZip(file) : readLegacy(file));
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

    /** What the pickle holds, with each tensor's values read from its storage entry. */
    private static Map<Object, Object> readZip(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
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
            return materialize(root, fileSize, s -> {
                ZipEntry e = zip.getEntry(dataPrefix + s.key());
                if (e == null) {
                    throw new BagNetException("storage '" + s.key() + "' has no zip entry");
                }
                return ByteBuffer.wrap(entry(zip, e, Integer.MAX_VALUE - 8)).order(byteOrder);
            });
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

    /**
     * The legacy format: pickles of the magic number, the protocol version and the system's facts, then the
     * object, then the list of storage keys; then each storage as an 8-byte element count and its raw bytes.
     */
    private static Map<Object, Object> readLegacy(Path file) throws IOException {
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
            return materialize(root, channel.size(), s -> {
                ByteBuffer b = data.get(s.key());
                if (b == null) {
                    throw new BagNetException("storage '" + s.key() + "' is missing from the file");
                }
                return b;
            });
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
        String dtype = DTYPES.get(type);
        if (dtype == null) {
            throw new BagNetException("a storage of type " + type);
        }
        return new Storage(dtype, key, elements);
    }

    /**
     * The unpickled dict with each tensor view replaced by its values, in it and in the dicts it holds (a
     * wrapper's state_dict); deeper dicts are left as they are.
     */
    private static Map<Object, Object> materialize(Object root, long fileSize, Function<Storage, ByteBuffer> data) {
        return materialize(root, data, new HashMap<>(), new long[] {fileSize + MIN_ELEMENT_BUDGET}, true);
    }

    /** @param budget elements that may still be made: views repeating a storage's elements must not blow up */
    private static Map<Object, Object> materialize(Object root, Function<Storage, ByteBuffer> data,
            Map<Storage, ByteBuffer> cache, long[] budget, boolean top) {
        if (!(root instanceof Map<?, ?> map)) {
            throw new BagNetException("the checkpoint holds no dict of tensors");
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Unpickler.TensorView t) {
                Storage s = t.storage() instanceof Storage st ? st : null;
                if (s == null) {
                    throw new BagNetException("tensor '" + e.getKey() + "' has no storage");
                }
                v = values(String.valueOf(e.getKey()), t, s, cache.computeIfAbsent(s, data), budget);
            } else if (v instanceof Map<?, ?> && top) {
                v = materialize(v, data, cache, budget, false);
            }
            out.put(e.getKey(), v);
        }
        return out;
    }

    /** A view's elements, in C order, as float32. */
    private static Tensor values(String name, Unpickler.TensorView t, Storage s, ByteBuffer data, long[] budget) {
        int rank = t.shape().length;
        if (t.stride().length != rank) {
            throw new BagNetException("tensor '" + name + "' has " + rank + " sizes but " + t.stride().length
                    + " strides");
        }
        long count = 1;
        long last = t.offset();
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
            last += Math.max(0, shape[d] - 1) * t.stride()[d];
        }
        long available = data.capacity() / s.elementSize();
        if (count > 0 && last >= Math.min(available, s.elements())) {
            throw new BagNetException("tensor '" + name + "' reaches element " + last + " of a storage of "
                    + Math.min(available, s.elements()));
        }
        budget[0] -= count;
        if (budget[0] < 0) {
            throw new BagNetException("its tensors hold more elements than the file has bytes (views repeating "
                    + "a storage's elements, e.g. stride 0)");
        }
        float[] values = new float[(int) count];
        int[] index = new int[rank];
        long at = t.offset();
        for (int i = 0; i < values.length; i++) {
            values[i] = element(data, s.dtype(), (int) at * s.elementSize());
            for (int d = rank - 1; d >= 0; d--) { // the next index in C order, and its element
                if (++index[d] < shape[d]) {
                    at += t.stride()[d];
                    break;
                }
                at -= (long) (shape[d] - 1) * t.stride()[d];
                index[d] = 0;
            }
        }
        return new Tensor(s.dtype(), shape, values);
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

    /** The state_dict: unwrapped, names without a module. prefix, every value a tensor. */
    private static Map<String, Tensor> stateDict(Map<Object, Object> root) {
        Map<?, ?> dict = root;
        for (String wrapper : List.of("state_dict", "model")) {
            if (dict.get(wrapper) instanceof Map<?, ?> inner) {
                dict = inner;
                break;
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new BagNetException("a state_dict entry whose name is not a string");
            }
            if (!(e.getValue() instanceof Tensor tensor)) {
                throw new BagNetException("state_dict entry '" + key + "' is not a tensor");
            }
            String name = key.startsWith("module.") ? key.substring("module.".length()) : key;
            if (out.put(name, tensor) != null) {
                throw new BagNetException("tensor '" + name + "' appears twice (with and without 'module.')");
            }
        }
        return out;
    }
}
