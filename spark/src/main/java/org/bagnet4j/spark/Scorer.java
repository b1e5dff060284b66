package org.bagnet4j.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.Prediction;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.tensor.Tensor;

/**
 * Classifies the images of one partition, one at a time, on the executor's shared model with as many threads as
 * the task has CPUs. An image that cannot be read or classified gets an {@code error} instead of a failed task.
 */
final class Scorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** One class of a result: the fields of classify --json's "top" entries. */
    static final StructType CLASS = new StructType(new StructField[] {
        DataTypes.createStructField("index", DataTypes.IntegerType, false),
        DataTypes.createStructField("label", DataTypes.StringType, false),
        DataTypes.createStructField("probability", DataTypes.DoubleType, false),
        DataTypes.createStructField("logit", DataTypes.FloatType, false)});
    /** The output: the fields of classify --json's objects, and the error of an image that failed. */
    static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("file", DataTypes.StringType, true),
        DataTypes.createStructField("top", DataTypes.createArrayType(CLASS, false), true),
        DataTypes.createStructField("ms", DataTypes.DoubleType, true),
        DataTypes.createStructField("error", DataTypes.StringType, true)});

    private final ScoreOptions options;
    /** The model's file name as shipped with SparkContext.addFile, or null for the embedded model. */
    private final String shippedModel;

    Scorer(ScoreOptions options, String shippedModel) {
        this.options = options;
        this.shippedModel = shippedModel;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> images) {
        TaskContext task = TaskContext.get();
        int threads = task == null ? 1 : Math.max(1, task.cpus());
        Model model = ExecutorModels.get(shippedModel, threads);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return images.hasNext();
            }

            @Override
            public Row next() {
                return score(model, images.next());
            }
        };
    }

    private Row score(Model model, Row image) {
        Object id = image.getAs(options.idColumn());
        String file = id == null ? null : id.toString();
        long start = System.nanoTime();
        try {
            byte[] bytes = image.getAs(options.contentColumn());
            if (bytes == null) {
                return failed(file, "no image bytes in column " + options.contentColumn());
            }
            Tensor input = model.preprocessing().apply(ImageDecoder.read(bytes, String.valueOf(file),
                    options.maxPixels(), null), options.maxPixels());
            float[] scores = model.classScores(input)[0];
            List<Row> top = new ArrayList<>();
            for (Prediction p : Prediction.top(scores, model.labels(), Math.min(options.top(), scores.length))) {
                top.add(RowFactory.create(p.index(), p.label(), p.probability(), p.logit()));
            }
            return RowFactory.create(file, top.toArray(), (System.nanoTime() - start) / 1e6, null);
        } catch (BagNetException e) {
            String message = e.getMessage();
            return failed(file, message.startsWith(String.valueOf(file)) ? message : file + ": " + message);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(file, file + ": " + (e instanceof OutOfMemoryError
                    ? "out of memory; give the executors more memory or lower the pixel limit" : "unexpected " + e));
        }
    }

    private static Row failed(String file, String error) {
        return RowFactory.create(file, null, null, error);
    }
}
