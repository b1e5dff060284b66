package org.bagnet4j.explain;

/** Told how far a long computation has come, e.g. to draw a progress bar. */
@FunctionalInterface
public interface ProgressListener {
    void progress(long done, long total);
}
