package org.bagnet4j.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * A per-kernel profile of the passes one thread runs (what {@code bench --layers} prints): while a recorder is
 * started on a thread, every kernel that thread calls (a convolution, a Winograd convolution, a pooling, a block run
 * band by band) notes its kind, shape, multiply-accumulates and wall time. A kernel called inside another (the GEMMs
 * of a Winograd convolution) counts as part of the outer one. Off unless started: the kernels then pay one
 * thread-local read per call, nothing per pixel.
 */
public final class KernelTimes {
    /** What {@link #begin()} returns on a thread with no recorder: the kernel is not timed. */
    public static final long OFF = -1;
    /** What {@link #begin()} returns for a kernel called inside a timed one. */
    private static final long NESTED = -2;
    private static final ThreadLocal<KernelTimes> CURRENT = new ThreadLocal<>();

    private final List<Call> calls = new ArrayList<>();
    private int depth;

    private KernelTimes() {
    }

    /** One kernel call: e.g. kind "conv 3x3/2", shape "56x56x128 -> 28x28x128". */
    public record Call(String kind, String shape, long macs, long nanos) {
    }

    /** Starts recording this thread's kernel calls (replacing any recorder it had). */
    public static KernelTimes start() {
        KernelTimes times = new KernelTimes();
        CURRENT.set(times);
        return times;
    }

    /** Stops recording on this thread. */
    public void stop() {
        if (CURRENT.get() == this) {
            CURRENT.remove();
        }
    }

    /** The calls recorded since the last take, in order; starts a new list. */
    public List<Call> take() {
        List<Call> taken = List.copyOf(calls);
        calls.clear();
        depth = 0;
        return taken;
    }

    /**
     * Called as a kernel starts: {@link #OFF} when nothing records, else a token for {@link #end}, which the kernel
     * must then call (in a finally block) as it ends.
     */
    public static long begin() {
        KernelTimes times = CURRENT.get();
        if (times == null) {
            return OFF;
        }
        return times.depth++ == 0 ? System.nanoTime() : NESTED;
    }

    /** Records a kernel that {@link #begin()} timed (token not {@link #OFF}). */
    public static void end(long token, String kind, String shape, long macs) {
        KernelTimes times = CURRENT.get();
        if (times == null) {
            return;
        }
        times.depth--;
        if (token >= 0) {
            times.calls.add(new Call(kind, shape, macs, System.nanoTime() - token));
        }
    }

    /** "h x w x c", the shape of one image's activation. */
    public static String plane(int height, int width, int channels) {
        return height + "x" + width + "x" + channels;
    }
}
