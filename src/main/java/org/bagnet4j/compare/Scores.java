package org.bagnet4j.compare;

/** Small helpers on score vectors, with the tie rules the Python reference uses too. */
final class Scores {
    private Scores() {
    }

    /** The first index of the largest score (numpy's argmax). */
    static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }
}
