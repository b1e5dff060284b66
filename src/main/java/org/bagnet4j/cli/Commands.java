package org.bagnet4j.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.BagNetException;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.ModelFile;

/** The bagnet4j command line: parses arguments, runs one command, returns the exit code. */
public final class Commands {
    static final String USAGE = """
            usage: bagnet4j COMMAND [OPTIONS]

            commands:
              run  --model M.safetensors --input X.npy --output Y.npy [--grid] [--threads T]
                   X: float32 images, NCHW (or CHW), normalized. Y: class scores [N, classes], or with --grid
                   the patch-logit grid [N, gh, gw, classes].
              info M.safetensors | --preset bagnet9|bagnet17|bagnet33
                   architecture, parameter count, receptive field and grid size at 224x224.
              help this text.
            """;

    private Commands() {
    }

    /** Runs a command; problems become one line on {@code err} and exit code 2. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        try {
            Options options = Options.parse(Arrays.copyOfRange(args, 1, args.length));
            return switch (args[0]) {
                case "run" -> runTensors(options, err);
                case "info" -> info(options, out);
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            err.println("bagnet4j: " + e.getMessage() + " (see: bagnet4j help)");
            return 2;
        } catch (BagNetException e) {
            err.println("bagnet4j: " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            err.println("bagnet4j: out of memory; give java more heap, e.g. -Xmx4g");
            return 2;
        }
    }

    private static int runTensors(Options options, PrintStream err) {
        options.allow("model", "input", "output", "grid", "threads");
        Path model = Path.of(options.required("model"));
        Npy.Array input = Npy.read(Path.of(options.required("input")));
        Path output = Path.of(options.required("output"));
        int[] s = input.shape();
        if (s.length == 3) {
            s = new int[] {1, s[0], s[1], s[2]};
        }
        if (s.length != 4) {
            throw new BagNetException("input must be a float32 array [N, C, H, W] or [C, H, W], got shape "
                    + Arrays.toString(input.shape()));
        }
        BagNet net = BagNet.load(model, options.intValue("threads", Runtime.getRuntime().availableProcessors()));
        if (s[1] != net.config().inChannels()) {
            throw new BagNetException("input has " + s[1] + " channels (NCHW axis 1) but " + net.config().name()
                    + " expects " + net.config().inChannels());
        }
        Tensor images = Tensor.fromNchw(input.data(), s[0], s[1], s[2], s[3]);
        long start = System.nanoTime();
        if (options.has("grid")) {
            Tensor grid = net.patchLogits(images);
            Npy.write(output, grid.shape(), grid.data());
        } else {
            float[][] scores = net.classScores(images);
            float[] flat = new float[scores.length * scores[0].length];
            for (int n = 0; n < scores.length; n++) {
                System.arraycopy(scores[n], 0, flat, n * scores[n].length, scores[n].length);
            }
            Npy.write(output, new int[] {scores.length, scores[0].length}, flat);
        }
        err.printf(Locale.ROOT, "bagnet4j: %d image(s) %dx%d in %.1f ms -> %s%n", s[0], s[2], s[3],
                (System.nanoTime() - start) / 1e6, output);
        return 0;
    }

    private static int info(Options options, PrintStream out) {
        options.allow("preset");
        BagNetConfig config;
        String source;
        if (options.has("preset")) {
            config = BagNetConfig.preset(options.required("preset"));
            source = "preset";
        } else {
            if (options.positional().size() != 1) {
                throw new UsageException("info needs one model file or --preset NAME");
            }
            Path path = Path.of(options.positional().getFirst());
            try (ModelFile file = ModelFile.open(path)) {
                config = file.config();
            }
            source = path.toString();
        }
        int grid = config.gridSize(224);
        out.printf(Locale.ROOT, "model:            %s (%s)%n", config.name(), source);
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

    /** A mistake in the command line itself. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --name value} options, {@code --flag} switches and positional arguments. */
    static final class Options {
        private static final List<String> FLAGS = List.of("grid");
        private final Map<String, String> values = new LinkedHashMap<>();
        private final List<String> positional = new ArrayList<>();

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (!a.startsWith("--")) {
                    o.positional.add(a);
                    continue;
                }
                String name = a.substring(2);
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    o.values.put(name.substring(0, eq), name.substring(eq + 1));
                } else if (FLAGS.contains(name)) {
                    o.values.put(name, "true");
                } else if (i + 1 < args.length) {
                    o.values.put(name, args[++i]);
                } else {
                    throw new UsageException("option --" + name + " needs a value");
                }
            }
            return o;
        }

        void allow(String... names) {
            List<String> allowed = List.of(names);
            for (String name : values.keySet()) {
                if (!allowed.contains(name)) {
                    throw new UsageException("unknown option --" + name);
                }
            }
        }

        boolean has(String name) {
            return values.containsKey(name);
        }

        String required(String name) {
            String v = values.get(name);
            if (v == null) {
                throw new UsageException("missing --" + name);
            }
            return v;
        }

        int intValue(String name, int fallback) {
            String v = values.get(name);
            if (v == null) {
                return fallback;
            }
            try {
                int n = Integer.parseInt(v);
                if (n < 1) {
                    throw new UsageException("--" + name + " must be at least 1, got " + n);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " needs a whole number, got '" + v + "'");
            }
        }

        List<String> positional() {
            return positional;
        }
    }
}
