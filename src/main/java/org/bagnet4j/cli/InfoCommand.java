package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.DenseNetConfig;
import org.bagnet4j.ResNetConfig;
import org.bagnet4j.VggConfig;
import org.bagnet4j.weights.ModelFile;

/** {@code info}: what a model file (or a preset) is; reads the file's header only. */
final class InfoCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of();
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("preset");
    private InfoCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS);
        Architecture architecture;
        String source;
        if (options.has("preset")) {
            if (!options.positional().isEmpty()) {
                throw new UsageException("give a model file or --preset, not both");
            }
            architecture = Architecture.preset(options.required("preset"));
            source = "preset";
        } else {
            if (options.positional().size() > 1) {
                throw new UsageException("info takes one model file, or --preset NAME");
            }
            if (options.positional().isEmpty()) {
                err.println("bagnet4j: no model file given: describing the embedded " + BagNet.EMBEDDED_NAME);
                architecture = BagNet.embedded(1).config();
                source = "embedded in the jar";
            } else {
                Path path = ArgumentPath.of(options.positional().getFirst());
                try (ModelFile file = ModelFile.open(path)) {
                    architecture = file.architecture();
                    source = path + ", " + file.format();
                }
            }
        }
        out.printf(Locale.ROOT, "model:            %s (%s)%n", printable(architecture.name()), printable(source));
        out.printf(Locale.ROOT, "family:           %s%n", architecture.family());
        out.printf(Locale.ROOT, "input channels:   %d%n", architecture.inChannels());
        switch (architecture) {
            case BagNetConfig config -> describe(config, out);
            case ResNetConfig config -> describe(config, out);
            case VggConfig config -> describe(config, out);
            case DenseNetConfig config -> describe(config, out);
        }
        out.printf(Locale.ROOT, "classes:          %d%n", architecture.numClasses());
        out.printf(Locale.ROOT, "parameters:       %,d%n", architecture.parameterCount());
        return 0;
    }

    private static void describe(BagNetConfig config, PrintStream out) {
        int grid = config.gridSize(224);
        out.printf(Locale.ROOT, "stem channels:    %d%n", config.stemChannels());
        out.printf(Locale.ROOT, "stage widths:     %s%n", config.widths());
        out.printf(Locale.ROOT, "blocks per stage: %s%n", config.blocks());
        out.printf(Locale.ROOT, "stage strides:    %s%n", config.strides());
        out.printf(Locale.ROOT, "3x3 blocks:       %s%n", config.kernel3());
        out.printf(Locale.ROOT, "receptive field:  %d x %d pixels, grid stride %d%n", config.receptiveField(),
                config.receptiveField(), config.gridStride());
        out.printf(Locale.ROOT, "grid at 224x224:  %d x %d cells%n", grid, grid);
    }

    private static void describe(ResNetConfig config, PrintStream out) {
        out.printf(Locale.ROOT, "blocks:           %s per stage, %s%n", config.blocks(),
                config.bottleneck() ? "bottleneck" : "basic");
        out.printf(Locale.ROOT, "stage outputs:    %d, %d, %d, %d channels%n", config.outChannels(0),
                config.outChannels(1), config.outChannels(2), config.outChannels(3));
        if (config.bottleneck()) {
            out.printf(Locale.ROOT, "3x3 widths:       %d, %d, %d, %d%n", config.width(0), config.width(1),
                    config.width(2), config.width(3));
        }
        out.printf(Locale.ROOT, "evidence grid:    class activation map, 7 x 7 cells at 224x224 (stride 32)%n");
    }

    private static void describe(DenseNetConfig config, PrintStream out) {
        out.printf(Locale.ROOT, "dense blocks:     %s layers, growth %d, bottleneck %d x growth%n", config.blockConfig(),
                config.growthRate(), config.bnSize());
        out.printf(Locale.ROOT, "stem channels:    %d%n", config.initFeatures());
        out.printf(Locale.ROOT, "evidence grid:    class activation map, 7 x 7 cells at 224x224 (stride 32)%n");
    }

    private static void describe(VggConfig config, PrintStream out) {
        out.printf(Locale.ROOT, "layers:           %s%n", String.join(",", config.layers().stream()
                .map(l -> l == VggConfig.POOL ? "M" : l.toString()).toList()));
        out.printf(Locale.ROOT, "batchnorm:        %s%n", config.batchNorm() ? "yes" : "no");
        out.printf(Locale.ROOT, "classifier:       %d x 7 x 7 -> %d -> %d -> %d%n", config.featureChannels(),
                config.hidden(), config.hidden(), config.numClasses());
    }
}
