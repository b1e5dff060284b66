package org.bagnet4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Class names in class-index order: the model file's own list ({@code bagnet4j.labels} metadata, one name per
 * line) when it has one, else the 1000 ImageNet classes for a 1000-class model, else "class N".
 */
public final class Labels {
    /** Metadata key of a model's own label list. */
    public static final String METADATA_KEY = "bagnet4j.labels";
    private static final String IMAGENET_RESOURCE = "imagenet-labels.txt";

    private final List<String> names;

    private Labels(List<String> names) {
        this.names = List.copyOf(names);
    }

    /** The labels for a model with the given metadata and class count. */
    public static Labels forModel(Map<String, String> metadata, int classes) {
        String own = metadata.get(METADATA_KEY);
        if (own != null) {
            List<String> names = own.lines().toList();
            if (names.size() != classes) {
                throw new BagNetException("model metadata has " + names.size() + " labels for " + classes + " classes");
            }
            return new Labels(names);
        }
        if (classes == 1000) {
            return imagenet();
        }
        return new Labels(IntStream.range(0, classes).mapToObj(i -> "class " + i).toList());
    }

    /** The 1000 ImageNet-1k class names, in the order of torchvision's pretrained models. */
    public static Labels imagenet() {
        try (InputStream in = Labels.class.getResourceAsStream(IMAGENET_RESOURCE)) {
            if (in == null) {
                throw new BagNetException("the ImageNet label list is missing from the bagnet4j jar");
            }
            return new Labels(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
        } catch (IOException e) {
            throw new BagNetException("cannot read the ImageNet label list: " + BagNetException.reason(e));
        }
    }

    /** Every class name, in class-index order. */
    public List<String> names() {
        return names;
    }

    public String name(int index) {
        return names.get(index);
    }

    public int size() {
        return names.size();
    }

    /** Up to {@code n} class names closest to a misspelt one: containing it first, then by edit distance. */
    public List<String> closest(String name, int n) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return names.stream()
                .sorted(Comparator.comparingInt((String label) -> label.toLowerCase(Locale.ROOT)
                        .contains(wanted) ? 0 : 1).thenComparingInt(label -> editDistance(
                                label.toLowerCase(Locale.ROOT), wanted)))
                .limit(n).toList();
    }

    private static int editDistance(String a, String b) {
        int[] row = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            row[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int above = row[j];
                row[j] = Math.min(Math.min(row[j] + 1, row[j - 1] + 1),
                        diagonal + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.length()];
    }

    /** Index of a class given by name (exact, then case-insensitive) or by number; -1 if none. */
    public int indexOf(String nameOrIndex) {
        int exact = names.indexOf(nameOrIndex);
        if (exact >= 0) {
            return exact;
        }
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equalsIgnoreCase(nameOrIndex)) {
                return i;
            }
        }
        try {
            int index = Integer.parseInt(nameOrIndex.trim());
            return index >= 0 && index < names.size() ? index : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
