package org.bagnet4j.compare;

/**
 * Visits the running sums of a measurement's tally, array by array, in a fixed order: how a run's state is
 * saved and restored ({@link RunState}) without a second list of fields that could drift from the first.
 */
interface Sums {
    void longs(long[] values);

    void doubles(double[] values);

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
