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
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bagnet4j.BagNetException;

/** Reads and writes NumPy .npy files of little-endian float32 in C order. */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

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
            byte[] lengthBytes = in.readNBytes(major == 1 ? 2 : 4);
            ByteBuffer lb = ByteBuffer.wrap(Arrays.copyOf(lengthBytes, 4)).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = Integer.toUnsignedLong(lb.getInt());
            long dataStart = 8 + lengthBytes.length + headerLength;
            if (lengthBytes.length < 2 || dataStart > fileSize) {
                throw new BagNetException(where + "truncated .npy header");
            }
            String header = new String(in.readNBytes((int) headerLength), StandardCharsets.ISO_8859_1);
            String descr = group(DESCR, header, where, "descr");
            if (!descr.equals("<f4")) {
                throw new BagNetException(where + "dtype " + descr + " is not float32 (<f4); convert it with "
                        + "array.astype(numpy.float32)");
            }
            if (group(FORTRAN, header, where, "fortran_order").equals("True")) {
                throw new BagNetException(where + "Fortran-order arrays are not supported; save a C-order array");
            }
            String dims = group(SHAPE, header, where, "shape").trim();
            int[] shape = dims.isEmpty() ? new int[0]
                    : Arrays.stream(dims.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                            .mapToInt(Integer::parseInt).toArray();
            long count = 1;
            for (int d : shape) {
                count *= d;
            }
            if (count > Integer.MAX_VALUE / 4) {
                throw new BagNetException(where + "array of shape " + Arrays.toString(shape) + " is too large");
            }
            if (count * 4 != fileSize - dataStart) {
                throw new BagNetException(where + "shape " + Arrays.toString(shape) + " needs " + count * 4
                        + " bytes of data but the file has " + (fileSize - dataStart));
            }
            float[] data = new float[(int) count];
            ByteBuffer.wrap(in.readNBytes((int) count * 4)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            return new Array(shape, data);
        } catch (NoSuchFileException e) {
            throw new BagNetException("file not found: " + path);
        } catch (NumberFormatException e) {
            throw new BagNetException(where + "bad shape in .npy header");
        } catch (IOException e) {
            throw new BagNetException(where + "cannot read: " + e.getMessage());
        }
    }

    private static String group(Pattern pattern, String header, String where, String key) {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new BagNetException(where + "the .npy header has no readable '" + key + "'");
        }
        return m.group(1);
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
            throw new BagNetException("cannot write " + path + ": " + e.getMessage());
        }
    }
}
