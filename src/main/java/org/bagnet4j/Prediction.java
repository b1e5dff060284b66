package org.bagnet4j;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import org.bagnet4j.weights.Json;

/**
 * One class of a ranked classification.
 *
 * @param index class index
 * @param label class name
 * @param probability softmax probability over all classes
 * @param logit the class score (mean patch evidence)
 */
public record Prediction(int index, String label, double probability, float logit) {
    /** This prediction as a JSON object: {"index", "label", "probability", "logit"}. */
    public String toJson() {
        return String.format(Locale.ROOT, "{\"index\":%d,\"label\":%s,\"probability\":%.6g,\"logit\":%.6g}", index,
                Json.quote(label), probability, logit);
    }

    /**
     * One image's classification as the JSON object {@code classify --json} prints a line of (and the HTTP API
     * answers): {"file", "top": [predictions, best first], "ms"}.
     */
    public static String toJson(String file, List<Prediction> ranked, double ms) {
        StringBuilder sb = new StringBuilder("{\"file\":").append(Json.quote(file)).append(",\"top\":[");
        for (int i = 0; i < ranked.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(ranked.get(i).toJson());
        }
        return sb.append(String.format(Locale.ROOT, "],\"ms\":%.1f}", ms)).toString();
    }

    /** The {@code k} highest-scoring classes of one image's logits, best first, with softmax probabilities. */
    public static List<Prediction> top(float[] logits, Labels labels, int k) {
        if (k < 1) {
            throw new BagNetException("top-k needs k >= 1, got " + k);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double norm = sum;
        double shift = max;
        List<Prediction> ranked = new ArrayList<>();
        IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i))
                .limit(k)
                .forEach(i -> ranked.add(new Prediction(i, labels.name(i), Math.exp(logits[i] - shift) / norm,
                        logits[i])));
        return List.copyOf(ranked);
    }
}
