package org.bagnet4j.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Cnn;
import org.bagnet4j.Model;

/**
 * bagnet4j on Spark: classify every image of a DataFrame, on the executors, with the model loaded once per executor
 * JVM. For users who already have a SparkSession; the {@code score} command runs the same on files.
 */
public final class BagNetSpark {
    private BagNetSpark() {
    }

    /**
     * The images under a path or glob, as Spark's binaryFile source reads them (columns path, content, ...). Refused
     * on the driver when nothing is there, before any task runs.
     */
    public static Dataset<Row> images(SparkSession spark, String pathOrGlob) {
        Dataset<Row> images;
        try {
            images = spark.read().format("binaryFile").load(pathOrGlob);
        } catch (Exception e) { // Scala throws AnalysisException, a checked exception, undeclared
            if (e instanceof AnalysisException a && "PATH_NOT_FOUND".equals(a.getCondition())) {
                throw new BagNetException("no file matches " + pathOrGlob);
            }
            throw e;
        }
        if (images.inputFiles().length == 0) {
            throw new BagNetException("no files in " + pathOrGlob);
        }
        return images;
    }

    /**
     * Each image's top classes: a DataFrame of {@code file} (the id column's value), {@code top} (array of index,
     * label, probability, logit, best first), {@code ms} and {@code error} (null unless the image failed; then
     * the others are null), the columns and values of {@code classify --json}, and what the options add. Lazy, as
     * Spark is: it runs when the result is written or collected.
     */
    public static Dataset<Row> score(Dataset<Row> images, ScoreOptions options) {
        Prepared p = prepare(images, options, options.gridClasses());
        return select(images, options).mapPartitions(new Scorer(options, p.shipped(), p.classes()),
                Encoders.row(Scorer.schema(options)));
    }

    /** The patches with the most and least evidence for some classes across a collection (see {@link #patches}). */
    public record CollectionPatches(int[] classes, List<String> labels, List<List<FoundPatch>> most,
            List<List<FoundPatch>> least, long images, long failed) {
    }

    /**
     * For each of {@code classes} (names or indices), the {@code k} patches with the most and the {@code k} with
     * the least evidence across all images, as the paper's figure of the most predictive patches: each partition
     * keeps bounded lists, merged in a tree, and only their patches' pixels reach the driver. Unreadable images
     * are counted and skipped.
     */
    public static CollectionPatches patches(Dataset<Row> images, ScoreOptions options, List<String> classes, int k) {
        if (classes.isEmpty() || k < 1) {
            throw new BagNetException("patches needs at least one class and k >= 1");
        }
        Prepared p = prepare(images, options, classes);
        PatchHeaps found = select(images, options).javaRDD()
                .mapPartitions(new PatchFinder(options, p.shipped(), p.classes(), k))
                .treeReduce(PatchHeaps::merge);
        List<List<FoundPatch>> most = new ArrayList<>();
        List<List<FoundPatch>> least = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int slot = 0; slot < p.classes().length; slot++) {
            most.add(found.most(slot));
            least.add(found.least(slot));
            labels.add(p.model().labels().name(p.classes()[slot]));
        }
        return new CollectionPatches(p.classes(), labels, most, least, found.images(), found.failed());
    }

    /** What the driver checked and shipped: the model and the classes asked for. */
    private record Prepared(ShippedModel shipped, Model model, int[] classes) {
    }

    private static Prepared prepare(Dataset<Row> images, ScoreOptions options, List<String> classNames) {
        for (String column : new String[] {options.idColumn(), options.contentColumn()}) {
            if (!Arrays.asList(images.columns()).contains(column)) {
                throw new BagNetException("the images have no column '" + column + "' (they have "
                        + String.join(", ", images.columns()) + ")");
            }
        }
        if (!images.schema().apply(options.contentColumn()).dataType().equals(DataTypes.BinaryType)) {
            throw new BagNetException("column '" + options.contentColumn() + "' holds "
                    + images.schema().apply(options.contentColumn()).dataType().simpleString()
                    + ", not the image files' bytes (binary)");
        }
        ShippedModel shipped = ShippedModel.embedded();
        Model model;
        if (options.model() != null) {
            Path file = Path.of(options.model());
            if (!Files.isRegularFile(file)) {
                throw new BagNetException("model file not found: " + file);
            }
            // Read once here, so that a file that is not a model (or cannot give what is asked) fails the job before
            // any task starts.
            model = Model.load(file, 1);
            shipped = ShippedModel.of(images.sparkSession(), file);
        } else {
            model = BagNet.embedded(1);
        }
        if (model.preprocessing() == null) {
            throw new BagNetException(options.model() + " has no image preprocessing in its metadata; it runs tensors "
                    + "only");
        }
        int[] classes = classNames.stream().mapToInt(model::classIndex).toArray();
        if (classes.length > 0 && model instanceof Cnn cnn && !cnn.hasClassActivationMap()) {
            throw new BagNetException(cnn.architecture().name() + " (" + cnn.architecture().family() + ") has no "
                    + "evidence grid: its classifier is not a linear layer after global average pooling");
        }
        return new Prepared(shipped, model, classes);
    }

    private static Dataset<Row> select(Dataset<Row> images, ScoreOptions options) {
        return images.select(images.col("`" + options.idColumn() + "`"), images.col("`" + options.contentColumn()
                + "`"));
    }
}
