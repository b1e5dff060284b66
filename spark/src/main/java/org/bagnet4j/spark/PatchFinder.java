package org.bagnet4j.spark;

import java.util.Iterator;
import java.util.List;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.ImageEvidence;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;

/**
 * One partition's patches with the most and least evidence for each chosen class: every image's evidence grid
 * (a BagNet's from one pass for all classes, or a CNN's class activation map), its cells offered to bounded lists,
 * the pixels copied only for cells that enter them. Unreadable images are counted and skipped.
 */
final class PatchFinder implements FlatMapFunction<Iterator<Row>, PatchHeaps> {
    private static final long serialVersionUID = 1L;

    private final ScoreOptions options;
    private final ShippedModel shippedModel;
    private final int[] classes;
    private final int k;

    PatchFinder(ScoreOptions options, ShippedModel shippedModel, int[] classes, int k) {
        this.options = options;
        this.shippedModel = shippedModel;
        this.classes = classes.clone();
        this.k = k;
    }

    @Override
    public Iterator<PatchHeaps> call(Iterator<Row> images) {
        TaskContext task = TaskContext.get();
        Model model = ExecutorModels.get(shippedModel, task == null ? 1 : Math.max(1, task.cpus()));
        PatchHeaps heaps = new PatchHeaps(classes.length, k);
        while (images.hasNext()) {
            Row image = images.next();
            Object id = image.getAs(options.idColumn());
            String file = String.valueOf(id);
            try {
                byte[] bytes = image.getAs(options.contentColumn());
                if (bytes == null) {
                    throw new BagNetException("no image bytes");
                }
                offer(model, file, bytes, heaps);
                heaps.counted(true);
            } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
                heaps.counted(false);
            }
        }
        return List.of(heaps).iterator();
    }

    private void offer(Model model, String file, byte[] bytes, PatchHeaps heaps) {
        Preprocessing prep = model.preprocessing();
        RgbImage seen = prep.geometry(ImageDecoder.read(bytes, file, options.maxPixels(), null), options.maxPixels());
        Tensor input = prep.normalize(seen);
        ImageEvidence evidence = ImageEvidence.of(model, input, true);
        for (int slot = 0; slot < classes.length; slot++) {
            EvidenceMap map = evidence.map(classes[slot]);
            for (int y = 0; y < map.height(); y++) {
                for (int x = 0; x < map.width(); x++) {
                    float value = map.value(x, y);
                    if (heaps.wanted(slot, value)) {
                        EvidenceMap.Box box = map.box(x, y);
                        RgbImage crop = Pictures.crop(seen, box);
                        heaps.offer(slot, new FoundPatch(classes[slot], value, file, x, y, new int[] {box.x0(), box.y0(),
                            box.x1(), box.y1()}, crop.width(), crop.height(), crop.rgb()));
                    }
                }
            }
        }
    }
}
