package org.bagnet4j.compare;

import java.util.List;

import org.bagnet4j.image.RgbImage;

/**
 * Images with their true classes, read one at a time: a folder in torchvision's ImageFolder layout
 * ({@link ImageFolder}), Fashion-MNIST's IDX files ({@link IdxImages}), or images already in memory.
 */
public interface LabelledImages {
    int size();

    /** The class names, in class-index order. */
    List<String> classNames();

    /** What to call image i in reports, e.g. its file's path. */
    String name(int index);

    int label(int index);

    /** Image i, decoded; a BagNetException (one line) if it cannot be. */
    RgbImage image(int index);

    /** The first {@code limit} images only. */
    default LabelledImages limit(int limit) {
        LabelledImages all = this;
        int size = Math.min(limit, all.size());
        return new LabelledImages() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public List<String> classNames() {
                return all.classNames();
            }

            @Override
            public String name(int index) {
                return all.name(index);
            }

            @Override
            public int label(int index) {
                return all.label(index);
            }

            @Override
            public RgbImage image(int index) {
                return all.image(index);
            }
        };
    }

    /** Images in memory, named by their index. */
    static LabelledImages of(List<RgbImage> images, int[] labels, List<String> classNames) {
        if (images.size() != labels.length) {
            throw new IllegalArgumentException(images.size() + " images but " + labels.length + " labels");
        }
        List<String> names = List.copyOf(classNames);
        return new LabelledImages() {
            @Override
            public int size() {
                return images.size();
            }

            @Override
            public List<String> classNames() {
                return names;
            }

            @Override
            public String name(int index) {
                return "image " + index;
            }

            @Override
            public int label(int index) {
                return labels[index];
            }

            @Override
            public RgbImage image(int index) {
                return images.get(index);
            }
        };
    }
}
