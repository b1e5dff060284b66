package org.bagnet4j.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.bagnet4j.BagNetException;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;

/**
 * torchvision's ImageFolder layout: one subfolder per class, sorted by name (the class index is the position, unless
 * a labels file gives the order), images anywhere below it, in name order.
 */
public final class ImageFolder implements LabelledImages {
    private final List<Path> files;
    private final int[] labels;
    private final List<String> classNames;
    private final long maxPixels;

    private ImageFolder(List<Path> files, int[] labels, List<String> classNames, long maxPixels) {
        this.files = files;
        this.labels = labels;
        this.classNames = classNames;
        this.maxPixels = maxPixels;
    }

    /** Lists the folder; its class subfolders and images are found now, decoded one at a time later. */
    public static ImageFolder read(Path root, long maxPixels) {
        return read(root, maxPixels, null);
    }

    /**
     * As {@link #read(Path, long)}, with the classes named in {@code classOrder} (class i is the folder named by
     * line i), e.g. ImageNet's 1000 synsets for a folder holding a few of them; null: the sorted subfolders.
     */
    public static ImageFolder read(Path root, long maxPixels, List<String> classOrder) {
        List<Path> classes;
        try (Stream<Path> entries = Files.list(root)) {
            classes = entries.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new BagNetException(root + ": cannot list folder (" + BagNetException.reason(e) + ")");
        }
        if (classes.isEmpty()) {
            throw new BagNetException(root + ": no class subfolders (ImageFolder layout: one folder per class, "
                    + "holding its images)");
        }
        List<String> names = classOrder != null ? List.copyOf(classOrder)
                : classes.stream().map(p -> p.getFileName().toString()).toList();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            String folder = classes.get(c).getFileName().toString();
            int label = names.indexOf(folder);
            if (label < 0) {
                throw new BagNetException(classes.get(c) + ": no class of that name in the labels file");
            }
            try (Stream<Path> walk = Files.walk(classes.get(c))) {
                List<Path> images = walk.filter(f -> Files.isRegularFile(f) && ImageDecoder.hasImageName(f)).sorted().toList();
                for (Path image : images) {
                    files.add(image);
                    labels.add(label);
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new BagNetException(classes.get(c) + ": cannot list folder (" + e.getMessage() + ")");
            }
        }
        if (files.isEmpty()) {
            throw new BagNetException(root + ": no images (" + String.join(", ", ImageDecoder.EXTENSIONS)
                    + ") in its " + classes.size() + " class folders");
        }
        return new ImageFolder(List.copyOf(files), labels.stream().mapToInt(Integer::intValue).toArray(), names,
                maxPixels);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public String name(int index) {
        return files.get(index).toString();
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public RgbImage image(int index) {
        return ImageDecoder.read(files.get(index), maxPixels);
    }
}
