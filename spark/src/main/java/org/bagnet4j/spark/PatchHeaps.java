package org.bagnet4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * For each class, the k patches with the most and the k with the least evidence seen so far: bounded, so that a
 * partition's and a merge's memory stay k per class and side however many images there are. Ties go to the
 * earlier file and cell, so that the result does not depend on how the images were partitioned.
 */
final class PatchHeaps implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Most evidence first; ties by file, then row, then column. */
    static final Comparator<FoundPatch> MOST = Comparator.comparingDouble((FoundPatch p) -> -p.value())
            .thenComparing(FoundPatch::file).thenComparingInt(FoundPatch::y).thenComparingInt(FoundPatch::x);
    /** Least evidence first, ties as above. */
    static final Comparator<FoundPatch> LEAST = Comparator.comparingDouble(FoundPatch::value)
            .thenComparing(FoundPatch::file).thenComparingInt(FoundPatch::y).thenComparingInt(FoundPatch::x);

    private final int k;
    private final List<List<FoundPatch>> most = new ArrayList<>();
    private final List<List<FoundPatch>> least = new ArrayList<>();
    /** Images looked at, and those among them that could not be read. */
    private long images;
    private long failed;

    PatchHeaps(int classes, int k) {
        this.k = k;
        for (int i = 0; i < classes; i++) {
            most.add(new ArrayList<>());
            least.add(new ArrayList<>());
        }
    }

    /** Whether a patch of this class and value could enter either list (so that its pixels are worth copying). */
    boolean wanted(int slot, float value) {
        return wanted(most.get(slot), value, true) || wanted(least.get(slot), value, false);
    }

    private boolean wanted(List<FoundPatch> list, float value, boolean high) {
        return list.size() < k || (high ? value >= list.getLast().value() : value <= list.getLast().value());
    }

    void offer(int slot, FoundPatch patch) {
        insert(most.get(slot), patch, MOST);
        insert(least.get(slot), patch, LEAST);
    }

    private void insert(List<FoundPatch> list, FoundPatch patch, Comparator<FoundPatch> order) {
        int at = 0;
        while (at < list.size() && order.compare(list.get(at), patch) <= 0) {
            at++;
        }
        if (at < k) {
            list.add(at, patch);
            if (list.size() > k) {
                list.removeLast();
            }
        }
    }

    void counted(boolean readable) {
        images++;
        failed += readable ? 0 : 1;
    }

    long images() {
        return images;
    }

    long failed() {
        return failed;
    }

    /** This and {@code other} together (both are left as they were). */
    PatchHeaps merge(PatchHeaps other) {
        PatchHeaps merged = new PatchHeaps(most.size(), k);
        merged.images = images + other.images;
        merged.failed = failed + other.failed;
        for (PatchHeaps heaps : List.of(this, other)) {
            for (int slot = 0; slot < most.size(); slot++) {
                for (FoundPatch p : heaps.most.get(slot)) {
                    merged.insert(merged.most.get(slot), p, MOST);
                }
                for (FoundPatch p : heaps.least.get(slot)) {
                    merged.insert(merged.least.get(slot), p, LEAST);
                }
            }
        }
        return merged;
    }

    List<FoundPatch> most(int slot) {
        return List.copyOf(most.get(slot));
    }

    List<FoundPatch> least(int slot) {
        return List.copyOf(least.get(slot));
    }
}
