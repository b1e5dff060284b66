package embed;

import java.nio.file.Path;
import java.util.List;

import org.bagnet4j.BagNet;
import org.bagnet4j.Prediction;

/** Classifies one photo through bagnet4j's public API; exits non-zero when the answer is malformed. */
public final class App {
    public static void main(String[] args) {
        BagNet model = BagNet.load(Path.of(args[0]));
        List<Prediction> top = model.classify(Path.of(args[1]), 3);
        top.forEach(p -> System.out.printf("%s %.4f%n", p.label(), p.probability()));
        boolean ranked = top.size() == 3 && top.get(0).logit() >= top.get(1).logit()
                && top.get(1).logit() >= top.get(2).logit();
        if (!ranked || top.stream().anyMatch(p -> p.label() == null || p.probability() <= 0)) {
            System.err.println("unexpected predictions: " + top);
            System.exit(1);
        }
    }
}
