package org.bagnet4j.weights;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNetException;

/**
 * A converted model of any family: a safetensors file whose metadata holds the architecture and whose tensors are
 * exactly the PyTorch state_dict of that architecture (float32, original names and shapes, no num_batches_tracked).
 * Opening checks every name, shape and dtype before any weight is read. A PyTorch checkpoint is read as
 * {@code bagnet4j convert} would write it ({@link CheckpointConverter}), tensor by tensor.
 */
public final class ModelFile implements AutoCloseable {
    private final Architecture config;
    private final Map<String, String> metadata;
    private final Function<String, float[]> tensors;
    private final Runnable close;
    private final String format;

    private ModelFile(Architecture config, Map<String, String> metadata, Function<String, float[]> tensors,
            Runnable close, String format) {
        this.config = config;
        this.metadata = metadata;
        this.tensors = tensors;
        this.close = close;
        this.format = format;
    }

    public static ModelFile open(Path path) {
        if (TorchCheckpoint.recognizes(path)) {
            // Each tensor is read from the checkpoint when the model packs it: the weights are never held twice.
            CheckpointConverter.Converted c = CheckpointConverter.convert(path, null, null);
            return new ModelFile(c.architecture(), c.metadata(), c::values, c::close, c.format());
        }
        return validate(SafetensorsFile.open(path));
    }

    /** A model held in memory (e.g. a jar resource); {@code name} stands for the file in messages. */
    public static ModelFile of(byte[] bytes, String name) {
        return validate(SafetensorsFile.of(bytes, name));
    }

    private static ModelFile validate(SafetensorsFile file) {
        try {
            String where = file.path().getFileName() + ": ";
            Architecture config;
            try {
                config = Architecture.fromMetadata(file.metadata());
            } catch (BagNetException e) {
                throw new BagNetException(where + e.getMessage());
            }
            Map<String, int[]> expected = config.tensorShapes();
            for (Map.Entry<String, int[]> e : expected.entrySet()) {
                SafetensorsFile.Entry entry = file.entries().get(e.getKey());
                if (entry == null) {
                    throw new BagNetException(where + "missing tensor '" + e.getKey() + "' (expected by its "
                            + config.name() + " config)");
                }
                if (!Arrays.equals(entry.shape(), e.getValue())) {
                    throw new BagNetException(where + "tensor '" + e.getKey() + "' has shape "
                            + Arrays.toString(entry.shape()) + ", its " + config.name() + " config needs "
                            + Arrays.toString(e.getValue()));
                }
                if (!entry.dtype().equals("F32")) {
                    throw new BagNetException(where + "tensor '" + e.getKey() + "' has dtype " + entry.dtype()
                            + "; bagnet4j reads F32 only");
                }
            }
            for (String name : file.entries().keySet()) {
                if (!expected.containsKey(name)) {
                    throw new BagNetException(where + "unexpected tensor '" + name + "' (not part of its "
                            + config.name() + " config)");
                }
            }
            return new ModelFile(config, file.metadata(), file::readFloats, file::close, "safetensors, float32");
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public Architecture architecture() {
        return config;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** What the file is, and the weights' dtype in it: "safetensors, float32", "PyTorch checkpoint (zip), ...". */
    public String format() {
        return format;
    }

    /** The values of a state_dict tensor, C order. */
    public float[] tensor(String name) {
        return tensors.apply(name);
    }

    @Override
    public void close() {
        close.run();
    }
}
