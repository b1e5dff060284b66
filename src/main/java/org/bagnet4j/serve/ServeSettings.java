package org.bagnet4j.serve;

import org.bagnet4j.image.ImageDecoder;

/**
 * How the server runs.
 *
 * @param host the address to bind (127.0.0.1 unless told otherwise)
 * @param port the TCP port (0: any free one)
 * @param threads requests computed at once, one thread each
 * @param queue requests admitted beyond those computing; more get 503 with Retry-After
 * @param maxUploadBytes largest request body
 * @param maxPixels largest image, checked from its header before decoding
 * @param timeoutSeconds longest a request may wait and compute before it gets 503 (also the longest a client
 *        may take to send it)
 * @param token when non-null, the API wants {@code Authorization: Bearer TOKEN}
 */
public record ServeSettings(String host, int port, int threads, int queue, long maxUploadBytes, long maxPixels,
        int timeoutSeconds, String token) {
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_QUEUE = 64;
    public static final int DEFAULT_MAX_UPLOAD_MB = 20;
    public static final int DEFAULT_TIMEOUT_SECONDS = 60;

    public ServeSettings {
        if (threads < 1 || queue < 0 || maxUploadBytes < 1 || maxPixels < 1 || timeoutSeconds < 1 || port < 0
                || port > 65535) {
            throw new IllegalArgumentException("invalid settings " + threads + ", " + queue + ", " + maxUploadBytes
                    + ", " + maxPixels + ", " + timeoutSeconds + ", " + port);
        }
    }

    /** The defaults, on loopback, with {@code threads} compute threads. */
    public static ServeSettings defaults(int threads) {
        return new ServeSettings("127.0.0.1", DEFAULT_PORT, threads, DEFAULT_QUEUE, DEFAULT_MAX_UPLOAD_MB << 20,
                ImageDecoder.DEFAULT_MAX_PIXELS, DEFAULT_TIMEOUT_SECONDS, null);
    }

    public ServeSettings withPort(int newPort) {
        return new ServeSettings(host, newPort, threads, queue, maxUploadBytes, maxPixels, timeoutSeconds, token);
    }
}
