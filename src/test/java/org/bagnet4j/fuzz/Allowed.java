package org.bagnet4j.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.bagnet4j.BagNetException;

/**
 * What a fuzz target may do with hostile input: succeed, or fail with a one-line {@link BagNetException}. Anything
 * else (another exception, an Error such as OutOfMemoryError, a multi-line message) is a finding.
 */
final class Allowed {
    private Allowed() {
    }

    /** A body that may throw checked exceptions. */
    interface Body {
        void run() throws Exception;
    }

    static void onlyBagNetException(Body body) {
        try {
            body.run();
        } catch (BagNetException e) {
            if (e.getMessage() == null || e.getMessage().contains("\n")) {
                throw new AssertionError("error message is not one line: " + e.getMessage(), e);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError("checked exception escaped: " + e, e);
        }
    }

    /** A file in the temporary folder holding {@code data}, the same file for every input of a run. */
    static Path scratch(String name, byte[] data) {
        try {
            Path file = Path.of(System.getProperty("java.io.tmpdir"), "bagnet4j-fuzz-" + ProcessHandle.current().pid()
                    + "-" + name);
            Files.write(file, data);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
