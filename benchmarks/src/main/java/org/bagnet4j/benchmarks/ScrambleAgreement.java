package org.bagnet4j.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import org.bagnet4j.BagNet;
import org.bagnet4j.explain.Scramble;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;

/**
 * How often scrambling N x N tiles leaves the top-1 class unchanged, for the embedded model on its sample images
 * (each shuffled with several seeds). Usage: ScrambleAgreement [seeds]
 */
public final class ScrambleAgreement {
    private ScrambleAgreement() {
    }

    public static void main(String[] args) throws IOException {
        int seeds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        BagNet model = BagNet.embedded();
        List<String> names;
        try (InputStream in = BagNet.class.getResourceAsStream("samples/index.txt")) {
            names = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
        Path tmp = Files.createTempDirectory("samples");
        System.out.println("| tiles | top-1 unchanged |");
        System.out.println("|---|---|");
        for (int n : new int[] {2, 4, 8}) {
            int same = 0;
            int total = 0;
            for (String name : names) {
                Path file = tmp.resolve(name);
                try (InputStream in = BagNet.class.getResourceAsStream("samples/" + name)) {
                    Files.write(file, in.readAllBytes());
                }
                RgbImage seen = model.preprocessing().geometry(ImageDecoder.read(file));
                int before = argmax(model.classScores(model.preprocessing().normalize(seen))[0]);
                for (int seed = 0; seed < seeds; seed++) {
                    RgbImage shuffled = Scramble.tiles(seen, n, new Random(seed));
                    same += argmax(model.classScores(model.preprocessing().normalize(shuffled))[0]) == before ? 1 : 0;
                    total++;
                }
            }
            System.out.printf(Locale.ROOT, "| %dx%d | %d of %d (%.0f%%) |%n", n, n, same, total, 100.0 * same / total);
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
