package org.bagnet4j.weights;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.bagnet4j.BagNetException;

/**
 * A pickle reader for PyTorch state_dicts that runs nothing: it follows the opcodes that state_dicts use
 * (protocols 2 to 5) on plain Java values, and knows a short list of globals, each by what it means, never by
 * loading or calling anything. Any other opcode or global ends the read with one line naming it. Memory is
 * bounded: at most {@link #MAX_VALUES} values are made or remembered, every length read from the pickle is
 * checked against the bytes that remain, and dict keys must be plain values (a list as a key could hash forever).
 */
final class Unpickler {
    /** Globals a state_dict needs, and nothing else. */
    private static final Set<String> ALLOWED = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter", "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage",
            "torch.DoubleStorage", "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage",
            "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage");
    private static final int MAX_MARKS = 10_000;
    /** Values made or remembered by one pickle: a state_dict of thousands of tensors needs well under a million. */
    static final int MAX_VALUES = 4_000_000;
    private static final int MAX_LONG_BYTES = 16;

    /** A module attribute the pickle names; only {@link #ALLOWED} ones exist. */
    record Global(String name) {
    }

    /** A Python tuple (lists and tuples are told apart: a persistent id or a call's arguments are tuples). */
    record Tuple(List<Object> items) {
        Object get(int i) {
            return i < items.size() ? items.get(i) : null;
        }
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, ...)}: a view into a storage. */
    record TensorView(Object storage, long offset, long[] shape, long[] stride) {
    }

    private final ByteBuffer in;
    private final Function<Tuple, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    /** Stack heights at each MARK not yet consumed. */
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int values;

    /**
     * @param pickle the bytes from the pickle's first opcode on; left after its STOP
     * @param persistentLoad what a persistent id (a storage) stands for; it checks the id itself
     */
    private Unpickler(ByteBuffer pickle, Function<Tuple, Object> persistentLoad) {
        this.in = pickle.order(ByteOrder.LITTLE_ENDIAN);
        this.persistentLoad = persistentLoad;
    }

    /** Reads one pickle from {@code pickle}'s position to its STOP and returns the value it describes. */
    static Object read(ByteBuffer pickle, Function<Tuple, Object> persistentLoad) {
        return new Unpickler(pickle, persistentLoad).run();
    }

    private Object run() {
        while (true) {
            int op = u8();
            switch (op) {
                case 0x80 -> u8(); // PROTO: any protocol these opcodes can express
                case 0x95 -> length(8); // FRAME: a hint only
                case '.' -> {
                    return pop();
                }
                case '(' -> {
                    if (marks.size() >= MAX_MARKS) {
                        throw problem("more than " + MAX_MARKS + " nested marks");
                    }
                    marks.add(stack.size());
                }
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(new Tuple(List.of()));
                case 't' -> push(new Tuple(popMark()));
                case 0x85, 0x86, 0x87 -> {
                    int n = op - 0x84;
                    List<Object> items = new ArrayList<>(stack.subList(depth(n), stack.size()));
                    truncate(stack.size() - n);
                    push(new Tuple(items));
                }
                case 'X' -> push(text(length(4)));
                case 0x8c -> push(text(length(1)));
                case 0x8d -> push(text(length(8)));
                case 'C' -> push(bytes(length(1)));
                case 'B' -> push(bytes(length(4)));
                case 'U' -> push(latin1(bytes(length(1)))); // Python 2's str, in files saved by old torch
                case 'T' -> push(latin1(bytes(length(4))));
                case 'q' -> remember(u8());
                case 'r' -> remember(u32());
                case 0x94 -> remember(memo.size());
                case 'h' -> push(recall(u8()));
                case 'j' -> push(recall(u32()));
                case 'c' -> push(global(line() + "." + line()));
                case 0x93 -> {
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw problem("STACK_GLOBAL needs two strings");
                    }
                    push(global(m + "." + n));
                }
                case 'Q' -> {
                    if (!(pop() instanceof Tuple id)) {
                        throw problem("a persistent id that is not a tuple");
                    }
                    push(persistentLoad.apply(id));
                }
                case 'J' -> push((long) in.getInt(advance(4)));
                case 'K' -> push((long) u8());
                case 'M' -> push((long) (in.getShort(advance(2)) & 0xffff));
                case 0x8a -> push(long1(u8()));
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong(advance(8))))); // big-endian
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'N' -> push(null);
                case '0' -> pop();
                case 'R' -> {
                    Object args = pop();
                    push(call(pop(), args));
                }
                case 'b' -> build(pop(), top());
                case 's' -> {
                    Object value = pop();
                    Object key = key(pop());
                    dict(top()).put(key, value);
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) {
                        throw problem("SETITEMS with an odd number of items");
                    }
                    Map<Object, Object> d = dict(top());
                    for (int i = 0; i < items.size(); i += 2) {
                        d.put(key(items.get(i)), items.get(i + 1));
                    }
                }
                case 'a' -> {
                    Object item = pop();
                    list(top()).add(item);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    list(top()).addAll(items);
                }
                default -> throw problem(String.format("opcode 0x%02x at byte %d, which a state_dict never uses",
                        op, in.position() - 1));
            }
        }
    }

    /** What a call of an allowed global gives; every other call is refused. */
    private Object call(Object callable, Object args) {
        if (!(callable instanceof Global(String name)) || !(args instanceof Tuple a)) {
            throw problem("a call of something that is not a known function");
        }
        return switch (name) {
            case "collections.OrderedDict" -> orderedDict(a);
            // v1 (torch <= 0.3) takes (storage, offset, size, stride); v2 adds requires_grad and hooks
            case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> new TensorView(a.get(0),
                    whole(a.get(1), "storage offset"), longs(a.get(2), "size"), longs(a.get(3), "stride"));
            case "torch._utils._rebuild_parameter" -> {
                if (!(a.get(0) instanceof TensorView t)) {
                    throw problem("_rebuild_parameter without a tensor");
                }
                yield t;
            }
            default -> throw problem(name + " called, which a state_dict never does");
        };
    }

    /**
     * {@code OrderedDict()}, as Python 3 pickles it (the items follow as SETITEMS), or {@code OrderedDict(items)},
     * as Python 2 did: one list of [key, value] pairs.
     */
    private Map<Object, Object> orderedDict(Tuple args) {
        Map<Object, Object> dict = new LinkedHashMap<>();
        if (args.items().isEmpty()) {
            return dict;
        }
        if (args.items().size() != 1 || !(args.get(0) instanceof List<?> items)) {
            throw problem("OrderedDict called with arguments other than a list of pairs");
        }
        for (Object item : items) {
            List<?> pair = item instanceof Tuple t ? t.items() : item instanceof List<?> l ? l : List.of();
            if (pair.size() != 2) {
                throw problem("OrderedDict called with an item that is not a [key, value] pair");
            }
            dict.put(key(pair.get(0)), pair.get(1));
        }
        return dict;
    }

    /** BUILD: a state_dict's {@code _metadata} attribute, or a parameter's, is kept by Python only. */
    private void build(Object state, Object target) {
        if (!(target instanceof Map<?, ?> || target instanceof TensorView) || !(state instanceof Map<?, ?>
                || state instanceof Tuple || state == null)) {
            throw problem("BUILD of something other than a dict or tensor");
        }
    }

    private Global global(String name) {
        if (!ALLOWED.contains(name)) {
            throw new BagNetException("refusing checkpoint: it references " + name
                    + ", which a weights file never needs");
        }
        return new Global(name);
    }

    private Object recall(long key) {
        if (!memo.containsKey(key)) {
            throw problem("memo entry " + key + " is read before it is written");
        }
        return memo.get(key);
    }

    private Object long1(int n) {
        if (n > MAX_LONG_BYTES) {
            throw problem("an integer of " + n + " bytes");
        }
        byte[] b = new byte[n];
        in.get(advance(n), b);
        for (int i = 0; i < n / 2; i++) {
            byte t = b[i];
            b[i] = b[n - 1 - i];
            b[n - 1 - i] = t;
        }
        BigInteger value = n == 0 ? BigInteger.ZERO : new BigInteger(b);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private String text(long length) {
        byte[] b = bytes(length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw problem("a string that is not UTF-8");
        }
    }

    private byte[] bytes(long length) {
        byte[] b = new byte[(int) length];
        in.get(advance((int) length), b);
        return b;
    }

    /** A GLOBAL operand: text up to a newline, printable ASCII only. */
    private String line() {
        StringBuilder sb = new StringBuilder();
        for (int c = u8(); c != '\n'; c = u8()) {
            if (c < 0x20 || c > 0x7e || sb.length() > 200) {
                throw problem("a malformed global name");
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    /** A length field of {@code size} bytes, checked against the bytes that remain. */
    private long length(int size) {
        long n = switch (size) {
            case 1 -> u8();
            case 4 -> u32();
            default -> in.getLong(advance(8));
        };
        if (n < 0 || n > in.remaining()) {
            throw problem("a length of " + Long.toUnsignedString(n) + " bytes, more than the " + in.remaining()
                    + " that remain");
        }
        return n;
    }

    private long u32() {
        return in.getInt(advance(4)) & 0xffffffffL;
    }

    private int u8() {
        return in.get(advance(1)) & 0xff;
    }

    /** Moves past {@code n} bytes that must remain; returns where they start. */
    private int advance(int n) {
        if (n > in.remaining()) {
            throw problem("the pickle ends before its STOP");
        }
        int at = in.position();
        in.position(at + n);
        return at;
    }

    private void push(Object o) {
        counted();
        stack.add(o);
    }

    private void remember(long key) {
        counted();
        memo.put(key, top());
    }

    private void counted() {
        if (++values > MAX_VALUES) {
            throw problem("more than " + MAX_VALUES + " values, far more than a state_dict has");
        }
    }

    /** A dict key: a plain value, whose hash is cheap and finite (never a list, dict or tuple). */
    private Object key(Object key) {
        if (key == null || key instanceof String || key instanceof Long || key instanceof BigInteger
                || key instanceof Boolean || key instanceof Double) {
            return key;
        }
        throw problem("a dict key that is not a string or a number");
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private Object pop() {
        if (stack.size() <= (marks.isEmpty() ? 0 : marks.getLast())) {
            throw problem("an opcode takes more values than the stack holds");
        }
        return stack.removeLast();
    }

    private Object top() {
        Object o = pop();
        push(o);
        return o;
    }

    private int depth(int n) {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() - floor < n) {
            throw problem("an opcode takes more values than the stack holds");
        }
        return stack.size() - n;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw problem("an opcode needs a mark that was never set");
        }
        int at = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
        truncate(at);
        return items;
    }

    private void truncate(int size) {
        stack.subList(size, stack.size()).clear();
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (!(o instanceof Map<?, ?>)) {
            throw problem("a dict opcode on something that is not a dict");
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (!(o instanceof List<?>)) {
            throw problem("a list opcode on something that is not a list");
        }
        return (List<Object>) o;
    }

    private long whole(Object o, String what) {
        if (!(o instanceof Long n) || n < 0) {
            throw problem("a tensor's " + what + " is not a whole number");
        }
        return n;
    }

    private long[] longs(Object o, String what) {
        if (!(o instanceof Tuple t) || t.items().size() > 16) {
            throw problem("a tensor's " + what + " is not a tuple of at most 16 numbers");
        }
        long[] out = new long[t.items().size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = whole(t.get(i), what);
        }
        return out;
    }

    private BagNetException problem(String what) {
        return new BagNetException("corrupt pickle: " + what);
    }
}
