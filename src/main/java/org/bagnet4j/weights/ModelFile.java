package org.bagnet4j.weights;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNetException;

/**
 * A converted model of any family: a safetensors file whose metadata holds the architecture and whose tensors are
 * exactly the PyTorch state_dict of that architecture (float32, original names and shapes, no num_batches_tracked).
 * Opening checks every name, shape and dtype before any weight is read. A PyTorch checkpoint is converted in
 * memory on opening ({@link CheckpointConverter}), as {@code bagnet4j convert} would write it.
 */
public final class ModelFile implements AutoCloseable {
    private final SafetensorsFile file;
    private final Architecture config;

    private ModelFile(SafetensorsFile file, Architecture config) {
        this.file = file;
        this.config = config;
    }

    public static ModelFile open(Path path) {
        if (TorchCheckpoint.recognizes(path)) {
            return of(CheckpointConverter.toSafetensors(path), path.getFileName().toString());
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
            return new ModelFile(file, config);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public Architecture architecture() {
        return config;
    }

    public Map<String, String> metadata() {
        return file.metadata();
    }

    /** The values of a state_dict tensor, C order. */
    public float[] tensor(String name) {
        return file.readFloats(name);
    }

    @Override
    public void close() {
        file.close();
    }
}
