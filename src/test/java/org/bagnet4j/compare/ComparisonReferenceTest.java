package org.bagnet4j.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.bagnet4j.Model;
import org.bagnet4j.ReferenceFixtures;
import org.bagnet4j.RequiresReference;
import org.bagnet4j.weights.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The comparison against weights-converter/compare_reference.py, an independent PyTorch implementation of the four
 * measurements in float64, on the same models, Fashion-MNIST test images, settings and seeds (all read from its
 * report): every number of its report agrees with bagnet4j's, and the properties the measurements rest on hold.
 */
@RequiresReference
class ComparisonReferenceTest {
    private static final double TOLERANCE = 1e-4;
    /** What only the Python report holds: where its models and images are, its first draws, its closest calls. */
    private static final Set<String> PYTHON_ONLY = Set.of("files", "data", "draws", "closest");

    private static Map<String, Object> python;
    private static Comparison.Result java;

    @BeforeAll
    static void measure() throws IOException {
        python = object(Json.parse(Files.readString(ReferenceFixtures.compare().resolve("report.json"))));
        long start = System.nanoTime();
        java = run(2);
        System.out.printf(Locale.ROOT, "bagnet4j: %d images, %d models in %.1f s on 2 threads%n", java.images(),
                java.models().size(), (System.nanoTime() - start) / 1e9);
    }

    /**
     * A number may differ from Python's by 1e-4 of the largest magnitude in its field (the value under its JSON
     * key, e.g. a whole interaction table): entries near 0 (the drop after no occlusion, a BagNet's interaction at a
     * distance, a mean interaction whose terms cancel) are float32 rounding noise next to their neighbours, with no
     * relative precision of their own. Rates counted over images agree only if every decision does.
     */
    @Test
    void everyNumberAgreesWithPyTorch() {
        assertThat(java.images()).as("images compared").isGreaterThanOrEqualTo(200);
        Map<String, Object> expected = new LinkedHashMap<>(python);
        expected.keySet().removeAll(PYTHON_ONLY);
        expected.remove("seconds");
        List<String> failures = new ArrayList<>();
        Map<String, Double> largest = new LinkedHashMap<>();
        compare("", expected, parsedWithoutSeconds(java), 0, failures, largest);
        for (String measurement : Comparison.Result.MEASUREMENTS) {
            System.out.printf(Locale.ROOT, "%s: largest |bagnet4j - PyTorch| / largest |value| of its field: %.2g%n",
                    measurement, largest.get(measurement));
        }
        // A decision or ranking that float32 takes otherwise changes a rate by 1 / images: then these say how near.
        Object closest = python.get("closest");
        System.out.println("PyTorch's closest calls, relative to their scale: " + closest);
        assertThat(failures).as("numbers that differ from PyTorch's (its closest calls: %s)", closest).isEmpty();
    }

    @Test
    void shufflingOneTileKeepsEveryPrediction() {
        for (int m = 0; m < java.models().size(); m++) {
            Shuffling.Result s = java.shuffling()[m];
            assertThat(s.grids()[0]).isEqualTo(1);
            assertThat(s.agreement()[0]).as(java.models().get(m)).isEqualTo(1.0);
        }
    }

    @Test
    void drawsAreThoseOfThePythonScript() {
        Map<String, Object> draws = object(python.get("draws"));
        Comparison.Settings s = java.settings();
        List<Object> permutations = list(draws.get("shuffling"));
        assertThat(permutations).isNotEmpty();
        for (Object o : permutations) {
            Map<String, Object> d = object(o);
            assertThat(Shuffling.permutation(integer(d.get("seed")), (int) integer(d.get("grid")),
                    integer(d.get("image")))).as(d.toString()).containsExactly(ints(d.get("permutation")));
        }
        List<Object> pairs = list(draws.get("interactions"));
        assertThat(pairs).isNotEmpty();
        for (Object o : pairs) {
            Map<String, Object> d = object(o);
            Interactions.Pair p = Interactions.draw(s.seed(), java.height(), java.width(), (int) integer(d.get("side")),
                    (int) integer(d.get("gap")), integer(d.get("image")));
            assertThat(new int[] {p.ya(), p.xa(), p.yb(), p.xb()}).as(d.toString())
                    .containsExactly(ints(d.get("pair")));
        }
        List<Object> orders = list(draws.get("random"));
        assertThat(orders).isNotEmpty();
        int patches = Sensitivity.Grid.of(java.height(), java.width(), s.patch()).patches();
        for (Object o : orders) {
            Map<String, Object> d = object(o);
            assertThat(Sensitivity.randomOrder(s.seed(), patches, integer(d.get("image")))).as(d.toString())
                    .containsExactly(ints(d.get("order")));
        }
    }

    /** No q x q window meets both squares once they are q - 1 pixels apart: the effects add up to rounding. */
    @Test
    void bagNetInteractionsVanishBeyondTheReceptiveField() {
        int checked = 0;
        for (int m = 0; m < java.models().size(); m++) {
            int q = java.receptiveFields()[m];
            Interactions.Result r = java.interactions()[m];
            for (int g = 0; g < r.gaps().length; g++) {
                for (int s = 0; s < r.sides().length; s++) {
                    if (q > 0 && r.gaps()[g] >= q - 1 && r.pairs()[s][g] > 0) {
                        assertThat(r.relative()[s][g]).as("%s, side %d, gap %d", java.models().get(m), r.sides()[s],
                                r.gaps()[g]).isLessThan(1e-4);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).as("interactions measured at gaps of q - 1 or more").isPositive();
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        assertThat(parsedWithoutSeconds(run(1))).isEqualTo(parsedWithoutSeconds(java));
    }

    /** bagnet4j's comparison of the models, images and settings the Python report names. */
    private static Comparison.Result run(int threads) {
        List<String> targetNames = strings(python.get("targets"));
        List<Comparison.Entry> targets = new ArrayList<>();
        List<Comparison.Entry> bagnets = new ArrayList<>();
        object(python.get("files")).forEach((name, file) -> (targetNames.contains(name) ? targets : bagnets)
                .add(new Comparison.Entry(name, Model.load(Path.of((String) file), 1))));
        Map<String, Object> s = object(python.get("settings"));
        Comparison.Settings settings = new Comparison.Settings(integer(s.get("seed")),
                (int) integer(s.get("shuffle_seeds")), ints(s.get("sides")), ints(s.get("gaps")),
                (int) integer(s.get("patch")), (int) integer(s.get("k")));
        Map<String, Object> data = object(python.get("data"));
        LabelledImages images = IdxImages.read(Path.of((String) data.get("images")),
                Path.of((String) data.get("labels")), bagnets.getFirst().model().labels().names());
        int limit = (int) integer(python.get("images"));
        return new Comparison(targets, bagnets, settings, threads).run(images.limit(limit), null);
    }

    private static Map<String, Object> parsedWithoutSeconds(Comparison.Result r) {
        Map<String, Object> report = object(Json.parse(ComparisonReport.json(r)));
        report.remove("seconds");
        return report;
    }

    /**
     * Walks both reports together, recording what differs in {@code failures} and, per top-level section, the
     * largest difference relative to its field's scale in {@code largest}.
     */
    private static void compare(String path, Object expected, Object actual, double scale, List<String> failures,
            Map<String, Double> largest) {
        switch (expected) {
            case Map<?, ?> e when actual instanceof Map<?, ?> a -> {
                if (!e.keySet().equals(a.keySet())) {
                    failures.add(path + ": keys " + a.keySet() + ", PyTorch's " + e.keySet());
                    return;
                }
                e.forEach((k, v) -> compare(path.isEmpty() ? (String) k : path + "." + k, v, a.get(k), largest(v),
                        failures, largest));
            }
            case List<?> e when actual instanceof List<?> a -> {
                if (e.size() != a.size()) {
                    failures.add(path + ": " + a.size() + " entries, PyTorch's " + e.size());
                    return;
                }
                for (int i = 0; i < e.size(); i++) {
                    compare(path + "[" + i + "]", e.get(i), a.get(i), scale, failures, largest);
                }
            }
            case Number e when actual instanceof Number a -> {
                double diff = Math.abs(a.doubleValue() - e.doubleValue());
                double relative = scale == 0 ? diff : diff / scale;
                largest.merge(path.replaceAll("[.\\[].*", ""), relative, Math::max);
                if (relative > TOLERANCE) {
                    failures.add(String.format(Locale.ROOT, "%s: %s, PyTorch %s (difference %.2g of the field's "
                            + "largest value)", path, a, e, relative));
                }
            }
            case null, default -> {
                if (expected == null ? actual != null : !expected.equals(actual)) {
                    failures.add(path + ": " + actual + ", PyTorch's " + expected);
                }
            }
        }
    }

    /** The largest magnitude of the numbers in a JSON value. */
    private static double largest(Object value) {
        return switch (value) {
            case Number n -> Math.abs(n.doubleValue());
            case List<?> l -> l.stream().mapToDouble(ComparisonReferenceTest::largest).max().orElse(0);
            case Map<?, ?> m -> m.values().stream().mapToDouble(ComparisonReferenceTest::largest).max().orElse(0);
            case null, default -> 0;
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object json) {
        return (Map<String, Object>) json;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object json) {
        return (List<Object>) json;
    }

    private static List<String> strings(Object json) {
        return list(json).stream().map(String.class::cast).toList();
    }

    private static long integer(Object json) {
        return (Long) json;
    }

    private static int[] ints(Object json) {
        return list(json).stream().mapToInt(v -> (int) integer(v)).toArray();
    }
}
