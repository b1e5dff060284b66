package org.bagnet4j.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bagnet4j.BagNetException;
import org.bagnet4j.kernels.KernelTimes;
import org.bagnet4j.weights.Json;

/**
 * {@code bench --layers}: the kernels of one pass in order, each with its median time over the profiled passes, and
 * the same summed by kind (GFLOP/s per kind of layer); the rest of a pass's median time is "between kernels" (layer
 * glue, global pooling, batchnorms applied on their own).
 */
final class KernelTable {
    private final List<KernelTimes.Call> first;
    /** Median nanoseconds of each kernel of a pass. */
    private final long[] medians;
    private final long passMedian;

    private KernelTable(List<KernelTimes.Call> first, long[] medians, long passMedian) {
        this.first = first;
        this.medians = medians;
        this.passMedian = passMedian;
    }

    /**
     * Builds the table from the passes' kernel calls and wall times (in nanoseconds); every pass must have called
     * the same kernels.
     */
    static KernelTable of(List<List<KernelTimes.Call>> passes, long[] passNanos) {
        List<KernelTimes.Call> first = passes.getFirst();
        long[] medians = new long[first.size()];
        long[] times = new long[passes.size()];
        for (int i = 0; i < first.size(); i++) {
            for (int p = 0; p < passes.size(); p++) {
                List<KernelTimes.Call> pass = passes.get(p);
                if (pass.size() != first.size() || !pass.get(i).shape().equals(first.get(i).shape())) {
                    throw new BagNetException("the profiled passes ran different kernels");
                }
                times[p] = pass.get(i).nanos();
            }
            medians[i] = median(times);
        }
        return new KernelTable(first, medians, median(passNanos.clone()));
    }

    private static long median(long[] values) {
        Arrays.sort(values);
        return values[values.length / 2];
    }

    void print(PrintStream out, int batch) {
        out.printf(Locale.ROOT, "kernels of one pass (batch %d; medians, ms per pass):%n", batch);
        out.printf(Locale.ROOT, "  %3s  %-44s %-28s %9s %8s %8s %6s%n", "#", "kind", "shape (one image)", "G MACs", "ms",
                "GFLOP/s", "share");
        for (int i = 0; i < first.size(); i++) {
            KernelTimes.Call c = first.get(i);
            out.printf(Locale.ROOT, "  %3d  %-44s %-28s %9.4f %8.3f %8s %5.1f%%%n", i + 1, c.kind(), c.shape(),
                    c.macs() / 1e9, medians[i] / 1e6, gflops(c.macs(), medians[i]), share(medians[i]));
        }
        out.println("by kind:");
        out.printf(Locale.ROOT, "  %-44s %5s %9s %8s %8s %6s%n", "kind", "calls", "G MACs", "ms", "GFLOP/s", "share");
        for (Kind k : kinds()) {
            out.printf(Locale.ROOT, "  %-44s %5d %9.4f %8.3f %8s %5.1f%%%n", k.name, k.calls, k.macs / 1e9,
                    k.nanos / 1e6, gflops(k.macs, k.nanos), share(k.nanos));
        }
        long between = Math.max(0, passMedian - Arrays.stream(medians).sum());
        out.printf(Locale.ROOT, "  %-44s %5s %9s %8.3f %8s %5.1f%%%n", "between kernels", "", "", between / 1e6, "",
                share(between));
        out.printf(Locale.ROOT, "  %-44s %5s %9s %8.3f%n", "pass", "", "", passMedian / 1e6);
    }

    /** The table as JSON fields (without braces): "kernels": [...], "between_ms", "pass_ms". */
    String jsonFields() {
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) {
            KernelTimes.Call c = first.get(i);
            rows.add(String.format(Locale.ROOT, "{\"kind\":%s,\"shape\":%s,\"macs\":%d,\"median_ms\":%.4f}",
                    Json.quote(c.kind()), Json.quote(c.shape()), c.macs(), medians[i] / 1e6));
        }
        long between = Math.max(0, passMedian - Arrays.stream(medians).sum());
        return String.format(Locale.ROOT, "\"kernels\":[%s],\"between_ms\":%.4f,\"pass_ms\":%.4f",
                String.join(",", rows), between / 1e6, passMedian / 1e6);
    }

    private List<Kind> kinds() {
        Map<String, Kind> byName = new LinkedHashMap<>();
        for (int i = 0; i < first.size(); i++) {
            KernelTimes.Call c = first.get(i);
            Kind k = byName.computeIfAbsent(c.kind(), Kind::new);
            k.calls++;
            k.macs += c.macs();
            k.nanos += medians[i];
        }
        return List.copyOf(byName.values());
    }

    private static String gflops(long macs, long nanos) {
        return macs == 0 || nanos == 0 ? "-" : String.format(Locale.ROOT, "%.1f", 2.0 * macs / nanos);
    }

    private double share(long nanos) {
        return passMedian == 0 ? 0 : 100.0 * nanos / passMedian;
    }

    private static final class Kind {
        final String name;
        int calls;
        long macs;
        long nanos;

        Kind(String name) {
            this.name = name;
        }
    }
}
