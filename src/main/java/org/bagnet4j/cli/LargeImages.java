package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import org.bagnet4j.Model;
import org.bagnet4j.explain.ProgressListener;
import org.bagnet4j.tensor.Tensor;

/**
 * Images whose activations do not fit a quarter of the free heap: a BagNet evaluates them tile by tile, slower
 * the smaller the heap. Says so once per run, with the heap that would run them whole, and draws a progress bar
 * for each such image once it has run for a few seconds (on a terminal).
 */
final class LargeImages {
    private static final long QUIET_NANOS = 3_000_000_000L;
    private static final double GIB = 1L << 30;
    private final PrintStream err;
    private final boolean bars;
    private final AtomicBoolean told = new AtomicBoolean();

    /** @param bars whether to draw progress bars (one image at a time, on a terminal) */
    LargeImages(PrintStream err, boolean bars) {
        this.err = err;
        this.bars = bars;
    }

    /** Whether {@code model} runs this input whole; if not, says why, the first time. */
    boolean runsWhole(Model model, Tensor input, String name) {
        return runsWhole(model, input.batch(), input.height(), input.width(), name);
    }

    /** Whether {@code model} runs a batch of inputs of this size whole; if not, says why, the first time. */
    boolean runsWhole(Model model, int batch, int height, int width, String name) {
        if (model.runsWhole(batch, height, width)) {
            return true;
        }
        if (!told.getAndSet(true)) {
            long heap = (long) Math.ceil(model.heapToRunWhole(batch, height, width) / GIB);
            err.printf(Locale.ROOT, "bagnet4j: %s: its %dx%d input is evaluated tile by tile, which is slower: its "
                    + "activations (%,d MB) exceed a quarter of the free heap (the heap is at most %,d MB); with "
                    + "-Xmx%dg it would run whole (BAGNET4J_JAVA_OPTS=-Xmx%dg bin/bagnet4j ...)%n", printable(name),
                    width, height, model.activationBytes(batch, height, width) >> 20,
                    Runtime.getRuntime().maxMemory() >> 20, heap, heap);
        }
        return false;
    }

    /** A progress bar for one tiled image, drawn once it has run for a few seconds; null without bars. */
    ProgressListener progress(String name) {
        if (!bars) {
            return null;
        }
        long start = System.nanoTime();
        Progress bar = new Progress(err, 100, true);
        return (done, total) -> {
            if (System.nanoTime() - start > QUIET_NANOS) {
                bar.update((int) (100 * done / total), "% of " + printable(name));
            }
        };
    }
}
