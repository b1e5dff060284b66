package org.bagnet4j.cli;

/** A mistake in the command line itself; reported with a pointer to the help. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
