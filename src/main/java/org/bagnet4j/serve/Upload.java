package org.bagnet4j.serve;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.Headers;

/**
 * A request body holding an image: the image file's bytes as they are, or a multipart/form-data form with it as
 * a file. The size limit holds while reading: a body that announces or sends more is refused with 413 as soon as
 * it is known, without buffering the excess. The form is taken apart by {@link #file()}, on a compute thread.
 *
 * @param contentType the request's Content-Type, or null
 * @param body the bytes as they came
 */
record Upload(String contentType, byte[] body) {
    /** Longest multipart boundary (RFC 2046). */
    private static final int MAX_BOUNDARY = 70;
    private static final Pattern BOUNDARY = Pattern.compile("boundary=(\"([^\"]+)\"|[^;\\s]+)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern FILENAME = Pattern.compile("filename=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
    private static final byte[] HEADERS_END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Reads the body of a request, at most {@code limit} bytes. */
    static Upload read(Headers headers, InputStream body, long limit) throws IOException {
        String announced = headers.getFirst("Content-Length");
        if (announced != null) {
            long length;
            try {
                length = Long.parseLong(announced.strip());
            } catch (NumberFormatException e) {
                throw new HttpError(400, "Content-Length is not a number");
            }
            if (length > limit) {
                throw tooLarge(limit);
            }
        }
        byte[] buffer = new byte[(int) Math.min(limit + 1, 1 << 16)];
        int size = 0;
        for (int n; (n = body.read(buffer, size, buffer.length - size)) >= 0; ) {
            size += n;
            if (size > limit) {
                throw tooLarge(limit);
            }
            if (size == buffer.length) {
                buffer = Arrays.copyOf(buffer, (int) Math.min(limit + 1, 2L * buffer.length));
            }
        }
        if (size == 0) {
            throw new HttpError(400, "the request has no body: send the image file as the body, or as a "
                    + "multipart/form-data file");
        }
        return new Upload(headers.getFirst("Content-Type"), Arrays.copyOf(buffer, size));
    }

    /**
     * An image file and its name (the form's file name, or "upload").
     */
    record File(String name, byte[] bytes) {
    }

    /** The image file: the body, or the first file of a form (else its first non-empty part). */
    File file() {
        if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return fromForm(contentType, body);
        }
        return new File("upload", body);
    }

    private static HttpError tooLarge(long limit) {
        return new HttpError(413, String.format(Locale.ROOT, "the upload is larger than the server's limit of %,d bytes",
                limit));
    }

    private static File fromForm(String contentType, byte[] body) {
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            throw new HttpError(400, "multipart/form-data without a boundary");
        }
        String boundary = m.group(2) != null ? m.group(2) : m.group(1);
        if (boundary.length() > MAX_BOUNDARY) {
            throw new HttpError(400, "multipart boundary longer than " + MAX_BOUNDARY + " characters");
        }
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        byte[] next = ("\r\n--" + new String(delimiter, 2, delimiter.length - 2, StandardCharsets.ISO_8859_1))
                .getBytes(StandardCharsets.ISO_8859_1);
        int at = indexOf(body, delimiter, 0);
        File first = null;
        while (at >= 0) {
            int partStart = at + delimiter.length;
            if (partStart + 2 > body.length || body[partStart] == '-' && body[partStart + 1] == '-') {
                break; // the closing delimiter
            }
            int headersEnd = indexOf(body, HEADERS_END, partStart);
            if (headersEnd < 0) {
                break;
            }
            int contentEnd = indexOf(body, next, headersEnd + HEADERS_END.length);
            if (contentEnd < 0) {
                break;
            }
            String partHeaders = new String(body, partStart, headersEnd - partStart, StandardCharsets.UTF_8);
            byte[] content = Arrays.copyOfRange(body, headersEnd + HEADERS_END.length, contentEnd);
            Matcher file = FILENAME.matcher(partHeaders);
            if (file.find() && content.length > 0) {
                return new File(file.group(1).isEmpty() ? "upload" : file.group(1), content);
            }
            if (first == null && content.length > 0) {
                first = new File("upload", content);
            }
            at = contentEnd + 2;
        }
        if (first == null) {
            throw new HttpError(400, "the multipart/form-data body holds no file");
        }
        return first;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = Math.max(0, from); i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
