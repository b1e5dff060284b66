package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.weights.ModelFile;

/** {@code info}: what a model file (or a preset) is. */
final class InfoCommand {
    private InfoCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, Set.of(), Set.of("preset"));
        BagNetConfig config;
        String source;
        if (options.has("preset")) {
            config = BagNetConfig.preset(options.required("preset"));
            source = "preset";
        } else {
            if (options.positional().size() > 1) {
                throw new UsageException("info takes one model file, or --preset NAME");
            }
            if (options.positional().isEmpty()) {
                err.println("bagnet4j: no model file given: describing the embedded " + BagNet.EMBEDDED_NAME);
                config = BagNet.embedded(1).config();
                source = "embedded in the jar";
            } else {
                Path path = ArgumentPath.of(options.positional().getFirst());
                try (ModelFile file = ModelFile.open(path)) {
                    config = file.config();
                }
                source = path.toString();
            }
        }
        int grid = config.gridSize(224);
        out.printf(Locale.ROOT, "model:            %s (%s)%n", printable(config.name()),
                printable(source));
        out.printf(Locale.ROOT, "input channels:   %d%n", config.inChannels());
        out.printf(Locale.ROOT, "stem channels:    %d%n", config.stemChannels());
        out.printf(Locale.ROOT, "stage widths:     %s%n", config.widths());
        out.printf(Locale.ROOT, "blocks per stage: %s%n", config.blocks());
        out.printf(Locale.ROOT, "stage strides:    %s%n", config.strides());
        out.printf(Locale.ROOT, "3x3 blocks:       %s%n", config.kernel3());
        out.printf(Locale.ROOT, "classes:          %d%n", config.numClasses());
        out.printf(Locale.ROOT, "parameters:       %,d%n", config.parameterCount());
        out.printf(Locale.ROOT, "receptive field:  %d x %d pixels, grid stride %d%n", config.receptiveField(),
                config.receptiveField(), config.gridStride());
        out.printf(Locale.ROOT, "grid at 224x224:  %d x %d cells%n", grid, grid);
        return 0;
    }
}
