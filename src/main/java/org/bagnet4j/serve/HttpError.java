package org.bagnet4j.serve;

/** A request that ends with an error status: its message becomes the body {"error": "..."}. */
final class HttpError extends RuntimeException {
    private final int status;
    /** Seconds for a Retry-After header, or 0 for none. */
    private final int retryAfter;

    HttpError(int status, String message) {
        this(status, message, 0);
    }

    HttpError(int status, String message, int retryAfter) {
        super(message, null, false, false);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    int status() {
        return status;
    }

    int retryAfter() {
        return retryAfter;
    }
}
