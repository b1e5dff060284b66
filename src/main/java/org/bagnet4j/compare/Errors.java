package org.bagnet4j.compare;

/**
 * Signature 3: the errors of CNNs and BagNets are alike. Per model: accuracy and the error rate of each class; per
 * pair of models: the Pearson correlation of those per-class error rates, how often their top-1 agree, the Jaccard
 * overlap of the images each gets wrong, and the Pearson correlation of all their logits (every image and class).
 */
public final class Errors {
    private Errors() {
    }

    /** One model's accuracy and per-class error rates (NaN for a class without images). */
    public record ModelErrors(double accuracy, double[] classErrorRate) {
    }

    /**
     * Two models compared: indices into the model list, a before b. {@code errorJaccardIfIndependent} is the overlap
     * two models with these error rates would have by chance, erring independently; the overlap is NaN when neither
     * model errs.
     */
    public record PairAgreement(int a, int b, double classErrorCorrelation, double topOneAgreement,
            double errorJaccard, double errorJaccardIfIndependent, double logitCorrelation) {
    }

    public record Result(ModelErrors[] models, PairAgreement[] pairs) {
    }

    /** Sums in image order. */
    static final class Tally {
        private final int models;
        private final int classes;
        private final long[] perClass;
        private final long[][] wrongPerClass;
        private final long[] right;
        private final long[][] agree;
        private final long[][] bothWrong;
        private final long[][] eitherWrong;
        private final double[][][] logitSums; // [a][b]: sum x, sum y, sum xy, sum xx, sum yy
        private long images;
        private long logitCount;

        Tally(int models, int classes) {
            this.models = models;
            this.classes = classes;
            perClass = new long[classes];
            wrongPerClass = new long[models][classes];
            right = new long[models];
            agree = new long[models][models];
            bothWrong = new long[models][models];
            eitherWrong = new long[models][models];
            logitSums = new double[models][models][5];
        }

        /** One image: its label and every model's scores. */
        void add(int label, float[][] scores) {
            images++;
            perClass[label]++;
            int[] top = new int[models];
            for (int m = 0; m < models; m++) {
                top[m] = Scores.argmax(scores[m]);
                if (top[m] == label) {
                    right[m]++;
                } else {
                    wrongPerClass[m][label]++;
                }
            }
            for (int a = 0; a < models; a++) {
                for (int b = a + 1; b < models; b++) {
                    agree[a][b] += top[a] == top[b] ? 1 : 0;
                    boolean wa = top[a] != label;
                    boolean wb = top[b] != label;
                    bothWrong[a][b] += wa && wb ? 1 : 0;
                    eitherWrong[a][b] += wa || wb ? 1 : 0;
                    double[] s = logitSums[a][b];
                    for (int c = 0; c < classes; c++) {
                        double x = scores[a][c];
                        double y = scores[b][c];
                        s[0] += x;
                        s[1] += y;
                        s[2] += x * y;
                        s[3] += x * x;
                        s[4] += y * y;
                    }
                }
            }
            logitCount += classes;
        }

        long images() {
            return images;
        }

        void visit(Sums sums) {
            sums.longs(perClass);
            sums.longs(wrongPerClass);
            sums.longs(right);
            sums.longs(agree);
            sums.longs(bothWrong);
            sums.longs(eitherWrong);
            for (double[][] pair : logitSums) {
                sums.doubles(pair);
            }
            images = sums.count(images);
            logitCount = sums.count(logitCount);
        }

        Result result() {
            ModelErrors[] errors = new ModelErrors[models];
            for (int m = 0; m < models; m++) {
                double[] rates = new double[classes];
                for (int c = 0; c < classes; c++) {
                    rates[c] = perClass[c] == 0 ? Double.NaN : (double) wrongPerClass[m][c] / perClass[c];
                }
                errors[m] = new ModelErrors((double) right[m] / images, rates);
            }
            PairAgreement[] pairs = new PairAgreement[models * (models - 1) / 2];
            int i = 0;
            for (int a = 0; a < models; a++) {
                for (int b = a + 1; b < models; b++) {
                    double[] s = logitSums[a][b];
                    double n = logitCount;
                    double logits = (s[2] - s[0] * s[1] / n)
                            / Math.sqrt((s[3] - s[0] * s[0] / n) * (s[4] - s[1] * s[1] / n));
                    double ea = 1 - errors[a].accuracy();
                    double eb = 1 - errors[b].accuracy();
                    pairs[i++] = new PairAgreement(a, b, pearson(errors[a].classErrorRate(), errors[b].classErrorRate()),
                            (double) agree[a][b] / images,
                            eitherWrong[a][b] == 0 ? Double.NaN : (double) bothWrong[a][b] / eitherWrong[a][b],
                            ea + eb == 0 ? Double.NaN : ea * eb / (ea + eb - ea * eb), logits);
                }
            }
            return new Result(errors, pairs);
        }
    }

    /** Pearson's r over the indices where both are numbers; NaN when either is constant there. */
    static double pearson(double[] x, double[] y) {
        double sx = 0;
        double sy = 0;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Double.isNaN(x[i]) && !Double.isNaN(y[i])) {
                sx += x[i];
                sy += y[i];
                n++;
            }
        }
        double mx = sx / n;
        double my = sy / n;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Double.isNaN(x[i]) && !Double.isNaN(y[i])) {
                sxy += (x[i] - mx) * (y[i] - my);
                sxx += (x[i] - mx) * (x[i] - mx);
                syy += (y[i] - my) * (y[i] - my);
            }
        }
        return sxy / Math.sqrt(sxx * syy);
    }
}
