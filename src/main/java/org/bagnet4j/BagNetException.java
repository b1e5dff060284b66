package org.bagnet4j;

/** A problem with a model file, a configuration or an input, described in one line. */
public class BagNetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BagNetException(String message) {
        super(message);
    }

    public BagNetException(String message, Throwable cause) {
        super(message, cause);
    }
}
