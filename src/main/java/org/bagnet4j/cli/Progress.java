package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** A one-line progress bar redrawn on stderr, shown only when there is a terminal to see it. */
final class Progress {
    private static final int WIDTH = 30;
    private final PrintStream err;
    private final int total;
    private final boolean visible;
    private final long start = System.nanoTime();

    Progress(PrintStream err, int total, boolean visible) {
        this.err = err;
        this.total = total;
        this.visible = visible;
    }

    /** Visible when more than a handful of items are processed and stderr is a terminal. */
    static boolean wanted(int items) {
        return items > 8 && stderrIsTerminal();
    }

    /**
     * System property by which the launcher tells the JVM it starts whether the user's stderr is a terminal: that
     * JVM's stderr is a pipe through the launcher.
     */
    static final String TERMINAL = "bagnet4j.stderr.terminal";

    /** Java cannot ask isatty(2); on Linux, /proc tells where file descriptor 2 points. */
    static boolean stderrIsTerminal() {
        String told = System.getProperty(TERMINAL);
        if (told != null) {
            return Boolean.parseBoolean(told);
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null && System.console().isTerminal();
        }
    }

    /** Prints a line (e.g. a skipped file) above the bar, its control characters escaped. */
    void println(String line) {
        if (visible) {
            err.print("\r" + " ".repeat(WIDTH + 40) + "\r");
        }
        err.println(printable(line));
    }

    void update(int done, String what) {
        if (!visible) {
            return;
        }
        int filled = total == 0 ? WIDTH : done * WIDTH / total;
        double seconds = (System.nanoTime() - start) / 1e9;
        err.printf(Locale.ROOT, "\r[%s%s] %d/%d %s, %.1f s  ", "#".repeat(filled), ".".repeat(WIDTH - filled), done,
                total, what, seconds);
        if (done == total) {
            err.println();
        }
        err.flush();
    }
}
