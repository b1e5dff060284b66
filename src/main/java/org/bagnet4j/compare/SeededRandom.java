package org.bagnet4j.compare;

/**
 * SplitMix64: a generator simple enough to be written identically in the Python reference
 * (weights-converter/compare_reference.py), so that both draw the same permutations and positions. Every draw that a
 * measurement makes for one image comes from a generator of its own, {@link #of(long, long, long)}, so results do
 * not depend on the order in which threads take images.
 */
public final class SeededRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private long state;

    public SeededRandom(long seed) {
        this.state = seed;
    }

    /**
     * The generator for one measurement ({@code stream}) on one image ({@code item}) under one seed: the three
     * numbers go through SplitMix64's finaliser one after the other, so that no two tuples share a generator the
     * way a linear mix would let them.
     */
    public static SeededRandom of(long seed, long stream, long item) {
        return new SeededRandom(mix(mix(mix(seed) + stream) + item));
    }

    public long nextLong() {
        state += GOLDEN;
        return mix(state);
    }

    /** SplitMix64's finaliser: a bijection of 64-bit values that spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, bound): the top 63 bits modulo bound (the bias, below 2^-40 for small bounds, is harmless). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound " + bound);
        }
        return (int) ((nextLong() >>> 1) % bound);
    }

    /** A permutation of 0..n-1 by Fisher-Yates from the last index down. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
