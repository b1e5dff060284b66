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
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.ImageEvidence;
import org.bagnet4j.explain.Patch;
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
    /** One class's evidence grid: row-major values, and the input box of cell (x, y) as EvidenceMap.box gives. */
    static final StructType GRID = new StructType(new StructField[] {
        DataTypes.createStructField("index", DataTypes.IntegerType, false),
        DataTypes.createStructField("label", DataTypes.StringType, false),
        DataTypes.createStructField("height", DataTypes.IntegerType, false),
        DataTypes.createStructField("width", DataTypes.IntegerType, false),
        DataTypes.createStructField("patch", DataTypes.IntegerType, false),
        DataTypes.createStructField("stride", DataTypes.IntegerType, false),
        DataTypes.createStructField("values", DataTypes.createArrayType(DataTypes.FloatType, false), false)});
    /** One of a grid's strongest cells, with its box [x0, x1) x [y0, y1) in the model's input. */
    static final StructType PATCH = new StructType(new StructField[] {
        DataTypes.createStructField("index", DataTypes.IntegerType, false),
        DataTypes.createStructField("x", DataTypes.IntegerType, false),
        DataTypes.createStructField("y", DataTypes.IntegerType, false),
        DataTypes.createStructField("value", DataTypes.FloatType, false),
        DataTypes.createStructField("box", DataTypes.createArrayType(DataTypes.IntegerType, false), false)});

    private final ScoreOptions options;
    /** The model the executors load. */
    private final ShippedModel shippedModel;
    /** The classes whose grids each row gets (resolved on the driver). */
    private final int[] gridClasses;

    Scorer(ScoreOptions options, ShippedModel shippedModel, int[] gridClasses) {
        this.options = options;
        this.shippedModel = shippedModel;
        this.gridClasses = gridClasses.clone();
    }

    /**
     * The output: the fields of classify --json's objects, then what the options add (every score, grids, patches),
     * and the error of an image that failed.
     */
    static StructType schema(ScoreOptions options) {
        StructType schema = new StructType()
                .add("file", DataTypes.StringType, true)
                .add("top", DataTypes.createArrayType(CLASS, false), true)
                .add("ms", DataTypes.DoubleType, true);
        if (options.allScores()) {
            schema = schema.add("scores", DataTypes.createArrayType(DataTypes.FloatType, false), true);
        }
        if (!options.gridClasses().isEmpty()) {
            schema = schema.add("grids", DataTypes.createArrayType(GRID, false), true);
        }
        if (options.patches() > 0) {
            schema = schema.add("patches", DataTypes.createArrayType(PATCH, false), true);
        }
        return schema.add("error", DataTypes.StringType, true);
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
            ImageEvidence evidence = ImageEvidence.of(model, input, gridClasses.length > 0);
            float[] scores = evidence.scores();
            List<Row> top = new ArrayList<>();
            for (Prediction p : Prediction.top(scores, model.labels(), Math.min(options.top(), scores.length))) {
                top.add(RowFactory.create(p.index(), p.label(), p.probability(), p.logit()));
            }
            List<Object> values = new ArrayList<>(List.of(file, top.toArray()));
            List<Row> grids = new ArrayList<>();
            List<Row> patches = new ArrayList<>();
            for (int c : gridClasses) {
                EvidenceMap map = evidence.map(c);
                Object[] cells = new Object[map.values().length];
                for (int i = 0; i < cells.length; i++) {
                    cells[i] = map.values()[i];
                }
                grids.add(RowFactory.create(c, map.label(), map.height(), map.width(), map.patch(), map.stride(), cells));
                if (options.patches() > 0) {
                    for (Patch p : Explainer.top(map, options.patches(), String.valueOf(file))) {
                        patches.add(RowFactory.create(c, p.x(), p.y(), p.value(), new Object[] {p.box().x0(),
                            p.box().y0(), p.box().x1(), p.box().y1()}));
                    }
                }
            }
            values.add((System.nanoTime() - start) / 1e6);
            if (options.allScores()) {
                Object[] boxed = new Object[scores.length];
                for (int i = 0; i < scores.length; i++) {
                    boxed[i] = scores[i];
                }
                values.add(boxed);
            }
            if (gridClasses.length > 0) {
                values.add(grids.toArray());
            }
            if (options.patches() > 0) {
                values.add(patches.toArray());
            }
            values.add(null);
            return RowFactory.create(values.toArray());
        } catch (BagNetException e) {
            String message = e.getMessage();
            return failed(file, message.startsWith(String.valueOf(file)) ? message : file + ": " + message);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failed(file, file + ": " + (e instanceof OutOfMemoryError
                    ? "out of memory; give the executors more memory or lower the pixel limit" : "unexpected " + e));
        }
    }

    private Row failed(String file, String error) {
        Object[] values = new Object[schema(options).size()];
        values[0] = file;
        values[values.length - 1] = error;
        return RowFactory.create(values);
    }
}
