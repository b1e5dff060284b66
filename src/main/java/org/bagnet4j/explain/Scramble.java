package org.bagnet4j.explain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.bagnet4j.image.RgbImage;

/** Destroys an image's global shape while keeping its local features: the paper's scrambling test. */
public final class Scramble {
    private Scramble() {
    }

    /**
     * The image with its N x N tiles shuffled. Tiles are floor(size / N) pixels; the few rows and columns left
     * over at the right and bottom stay where they are.
     */
    public static RgbImage tiles(RgbImage image, int n, Random random) {
        int tw = image.width() / n;
        int th = image.height() / n;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n * n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        byte[] rgb = image.rgb().clone();
        for (int target = 0; target < n * n; target++) {
            int source = order.get(target);
            int sx = (source % n) * tw;
            int sy = (source / n) * th;
            int tx = (target % n) * tw;
            int ty = (target / n) * th;
            for (int y = 0; y < th; y++) {
                System.arraycopy(image.rgb(), ((sy + y) * image.width() + sx) * 3, rgb,
                        ((ty + y) * image.width() + tx) * 3, tw * 3);
            }
        }
        return new RgbImage(image.width(), image.height(), rgb);
    }
}
