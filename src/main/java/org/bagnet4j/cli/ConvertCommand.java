package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Set;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNetException;
import org.bagnet4j.weights.CheckpointConverter;
import org.bagnet4j.weights.SafetensorsWriter;

/**
 * {@code convert}: a PyTorch checkpoint to a bagnet4j safetensors file, as weights-converter/convert.py writes
 * it, without Python. Optional: every command also reads checkpoints directly; a converted file starts faster and
 * is memory-mapped.
 */
final class ConvertCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("force");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("arch", "labels", "force");

    private ConvertCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        if (options.positional().size() != 2) {
            throw new UsageException("convert needs a checkpoint and the safetensors file to write");
        }
        Path checkpoint = ArgumentPath.of(options.positional().get(0));
        Path output = ArgumentPath.of(options.positional().get(1));
        if (Files.isDirectory(output)) {
            throw new UsageException(output + " is a folder");
        }
        if (Files.exists(output) && !options.has("force")) {
            throw new UsageException(output + " exists; --force to overwrite it");
        }
        var labels = options.has("labels") ? CheckpointConverter.labels(ArgumentPath.of(options.required("labels")))
                : null;
        long start = System.nanoTime();
        // Written beside the output, then moved: no half-written model file is ever left under its name.
        Path temporary = null;
        Architecture architecture;
        try (CheckpointConverter.Converted c = CheckpointConverter.convert(checkpoint,
                options.has("arch") ? options.required("arch") : null, labels)) {
            architecture = c.architecture();
            Path folder = output.toAbsolutePath().getParent();
            temporary = Files.createTempFile(folder, "." + output.getFileName(), ".tmp");
            SafetensorsWriter.write(temporary, c.metadata(), architecture.tensorShapes(), c::values);
            Files.move(temporary, output, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new BagNetException("cannot write " + output + ": " + BagNetException.reason(e));
        } finally {
            try {
                if (temporary != null) {
                    Files.deleteIfExists(temporary);
                }
            } catch (IOException ignored) {
                // Nothing more can be done; the message above says what failed.
            }
        }
        out.printf(Locale.ROOT, "wrote %s (%s, %d classes) in %.1f s%n", printable(output.toString()),
                printable(architecture.name()), architecture.numClasses(),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
