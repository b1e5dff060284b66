package org.bagnet4j.compare;

/**
 * Visits the running sums of a measurement's tally, array by array, in a fixed order: how a run's state is
 * saved and restored ({@link RunState}) without a second list of fields that could drift from the first.
 */
interface Sums {
    void longs(long[] values);

    void doubles(double[] values);

    /** A single count: written as it is, or read back in its place (the value to store). */
    default long count(long value) {
        long[] holder = {value};
        longs(holder);
        return holder[0];
    }

    default void longs(long[][] rows) {
        for (long[] row : rows) {
            longs(row);
        }
    }

    default void doubles(double[][] rows) {
        for (double[] row : rows) {
            doubles(row);
        }
    }
}
