package org.bagnet4j.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Predicate;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.weights.ModelFile;

/** The model of a command: the --model file, or the one embedded in the jar (said on stderr). */
final class ModelChoice {
    private ModelChoice() {
    }

    /** A model of any family. */
    static Model load(Options options, int threads, PrintStream err) {
        if (options.has("model")) {
            return Model.load(ArgumentPath.of(options.required("model")), threads);
        }
        return embedded(threads, err);
    }

    /** A BagNet, for a command that only BagNets can serve; another family is refused before its weights load. */
    static BagNet loadBagNet(Options options, int threads, PrintStream err, String command) {
        return (BagNet) load(options, threads, err, command, "a BagNet (its evidence comes patch by patch)",
                a -> a instanceof BagNetConfig);
    }

    /**
     * A model of the families a command can serve; another is refused, before its weights load, with a line that
     * says what the command {@code needs}.
     */
    static Model load(Options options, int threads, PrintStream err, String command, String needs,
            Predicate<Architecture> accepted) {
        if (!options.has("model")) {
            return embedded(threads, err);
        }
        Path path = ArgumentPath.of(options.required("model"));
        Architecture architecture;
        try (ModelFile file = ModelFile.open(path)) {
            architecture = file.architecture();
        }
        if (!accepted.test(architecture)) {
            throw new BagNetException(command + " needs " + needs + ", but " + path.getFileName() + " holds a "
                    + architecture.name() + " (" + architecture.family() + ")");
        }
        return Model.load(path, threads);
    }

    private static BagNet embedded(int threads, PrintStream err) {
        err.println("bagnet4j: no --model given: using the embedded " + BagNet.EMBEDDED_NAME
                + " (Fashion-MNIST, 28x28 grayscale, 10 classes)");
        return BagNet.embedded(threads);
    }
}
