package org.bagnet4j.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.bagnet4j.BagNetException;

/** Reads and writes NumPy .npy files of little-endian float32 in C order. */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy itself refuses headers above 10,000 bytes unless told otherwise. */
    private static final int MAX_HEADER_BYTES = 1 << 20;

    /** An array read from a .npy file. */
    public record Array(int[] shape, float[] data) {
    }

    private Npy() {
    }

    public static Array read(Path path) {
        String where = path.getFileName() + ": ";
        try (InputStream in = Files.newInputStream(path)) {
            long fileSize = Files.size(path);
            byte[] preamble = in.readNBytes(8);
            if (preamble.length < 8 || !Arrays.equals(Arrays.copyOf(preamble, 6), MAGIC)) {
                throw new BagNetException(where + "not a .npy file");
            }
            int major = preamble[6];
            if (major < 1 || major > 3) {
                throw new BagNetException(where + ".npy format version " + major + " is not 1, 2 or 3");
            }
            byte[] lengthBytes = in.readNBytes(major == 1 ? 2 : 4);
            ByteBuffer lb = ByteBuffer.wrap(Arrays.copyOf(lengthBytes, 4)).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = Integer.toUnsignedLong(lb.getInt());
            long dataStart = 8 + lengthBytes.length + headerLength;
            if (lengthBytes.length < (major == 1 ? 2 : 4) || dataStart > fileSize) {
                throw new BagNetException(where + "truncated .npy header");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new BagNetException(where + ".npy header of " + headerLength + " bytes is implausibly long");
            }
            Header header = Header.parse(new String(in.readNBytes((int) headerLength), StandardCharsets.ISO_8859_1),
                    where);
            if (!header.descr().equals("<f4")) {
                throw new BagNetException(where + "dtype " + header.descr() + " is not float32 (<f4); convert it with "
                        + "array.astype(numpy.float32)");
            }
            if (header.fortranOrder()) {
                throw new BagNetException(where + "Fortran-order arrays are not supported; save a C-order array");
            }
            int[] shape = header.shape();
            long count = 1;
            for (int d : shape) {
                count = Math.min(1L << 31, count * d); // saturates: never above 2^31 times 2^31
            }
            if (count > Integer.MAX_VALUE / 4) {
                throw new BagNetException(where + "array of shape " + Arrays.toString(shape) + " is too large");
            }
            if (count * 4 != fileSize - dataStart) {
                throw new BagNetException(where + "shape " + Arrays.toString(shape) + " needs " + count * 4
                        + " bytes of data but the file has " + (fileSize - dataStart));
            }
            float[] data = new float[(int) count];
            byte[] bytes = in.readNBytes((int) count * 4);
            if (bytes.length != count * 4) {
                throw new BagNetException(where + "the file ended early (changed while being read?)");
            }
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            return new Array(shape, data);
        } catch (NoSuchFileException e) {
            throw new BagNetException("file not found: " + path);
        } catch (IOException e) {
            throw new BagNetException(where + "cannot read: " + BagNetException.reason(e));
        }
    }

    /**
     * The header: a Python dict literal with exactly the keys 'descr' (a string), 'fortran_order' (True or False)
     * and 'shape' (a tuple of non-negative integers), parsed as such, never searched with patterns (which a key
     * hidden inside a string value would fool).
     */
    private record Header(String descr, boolean fortranOrder, int[] shape) {
        static Header parse(String text, String where) {
            HeaderParser p = new HeaderParser(text, where);
            String descr = null;
            Boolean fortran = null;
            int[] shape = null;
            p.expect('{');
            while (!p.take('}')) {
                String key = p.string();
                p.expect(':');
                switch (key) {
                    case "descr" -> descr = p.once(descr, key, p.string());
                    case "fortran_order" -> fortran = p.once(fortran, key, p.bool());
                    case "shape" -> shape = p.once(shape, key, p.tuple());
                    default -> throw p.error("unexpected key '" + key + "'");
                }
                if (!p.take(',')) {
                    p.expect('}');
                    break;
                }
            }
            p.end();
            if (descr == null || fortran == null || shape == null) {
                throw p.error("missing " + (descr == null ? "'descr'"
                        : fortran == null ? "'fortran_order'" : "'shape'"));
            }
            return new Header(descr, fortran, shape);
        }
    }

    /** A cursor over the header's text, skipping spaces between tokens. */
    private static final class HeaderParser {
        private final String text;
        private final String where;
        private int pos;

        HeaderParser(String text, String where) {
            this.text = text;
            this.where = where;
        }

        BagNetException error(String problem) {
            return new BagNetException(where + "bad .npy header: " + problem);
        }

        <T> T once(T previous, String key, T value) {
            if (previous != null) {
                throw error("'" + key + "' given twice");
            }
            return value;
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        boolean take(char c) {
            skipSpace();
            if (pos < text.length() && text.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!take(c)) {
                throw error("expected '" + c + "' at character " + pos);
            }
        }

        void end() {
            skipSpace();
            if (pos != text.length()) {
                throw error("unexpected text after the dict");
            }
        }

        String string() {
            skipSpace();
            char quote = pos < text.length() ? text.charAt(pos) : 0;
            if (quote != '\'' && quote != '"') {
                throw error("expected a string at character " + pos);
            }
            int close = text.indexOf(quote, pos + 1);
            if (close < 0 || text.substring(pos + 1, close).indexOf('\\') >= 0) {
                throw error("unterminated or escaped string at character " + pos);
            }
            String value = text.substring(pos + 1, close);
            pos = close + 1;
            return value;
        }

        Boolean bool() {
            skipSpace();
            for (String word : new String[] {"True", "False"}) {
                if (text.startsWith(word, pos)) {
                    pos += word.length();
                    return word.equals("True");
                }
            }
            throw error("expected True or False at character " + pos);
        }

        int[] tuple() {
            expect('(');
            List<Integer> dims = new ArrayList<>();
            while (!take(')')) {
                dims.add(dimension());
                if (!take(',')) {
                    expect(')');
                    break;
                }
            }
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }

        private int dimension() {
            skipSpace();
            int start = pos;
            while (pos < text.length() && Character.isDigit(text.charAt(pos)) && pos - start < 10) {
                pos++;
            }
            long value = start == pos ? -1 : Long.parseLong(text.substring(start, pos));
            if (value < 0 || value > Integer.MAX_VALUE || pos < text.length() && Character.isDigit(text.charAt(pos))) {
                throw error("shape needs non-negative integers below 2^31, at character " + start);
            }
            return (int) value;
        }
    }

    public static void write(Path path, int[] shape, float[] data) {
        String shapeText = shape.length == 1 ? shape[0] + ","
                : String.join(", ", Arrays.stream(shape).mapToObj(Integer::toString).toList());
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shapeText + "), }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(MAGIC);
            out.write(new byte[] {1, 0});
            out.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).array());
            out.write(header.getBytes(StandardCharsets.ISO_8859_1));
            ByteBuffer bytes = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(data);
            out.write(bytes.array());
        } catch (IOException e) {
            throw new BagNetException("cannot write " + path + ": " + BagNetException.reason(e));
        }
    }
}
