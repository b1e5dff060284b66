package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

import org.bagnet4j.BagNetException;

/** The bagnet4j command line: picks the command, runs it, turns every problem into one line and an exit code. */
public final class Commands {
    /** How commands that write files treat folders (said in their help too). */
    private static final String OUTPUTS = """
            Outputs: every folder bagnet4j creates for them holds a .bagnet4j-output file; folder walks skip
            such folders, and a new run replaces the files an earlier one wrote there. A file in any other
            folder is never overwritten without --force.
            """;
    static final String USAGE = """
            usage: bagnet4j COMMAND [OPTIONS]

            commands:
              demo [--out DIR] [--force] [--threads T]
                   classifies and explains the sample images bundled with bagnet4j using its embedded
                   Fashion-MNIST model; writes images, heatmaps and results to DIR (default:
                   bagnet4j-output/demo).
              classify [--model M.safetensors] [--top K] [--json] [--batch N] [--threads T]
                       [--resize N] [--crop N] [--no-resize] [--max-pixels N] [--alpha-background COLOR]
                       IMAGE|DIR...
                   top-K classes of each image (JPEG, PNG, BMP, GIF; folders are searched), preprocessed as the
                   model file says (ImageNet: Resize 256, CenterCrop 224). --json: one object per line.
                   --no-resize: the whole image as it is; when its activations would not fit the heap it is
                   evaluated tile by tile (also in explain and patches; the decoded image itself must fit,
                   about 19 bytes per pixel). --max-pixels: refuse images with more pixels, and resizes or
                   crops that would make more (100000000). --alpha-background white|black|gray|#rrggbb:
                   composite transparent pixels over a colour (default: their alpha is dropped, as PIL's
                   convert("RGB") does, with a warning per image; also in explain, patches and scramble).
              explain [--model M] [--class NAME|INDEX] [--full] [--region x0,y0,x1,y1] [--top K]
                   [--resize N] [--crop N] [--no-resize] [--max-pixels N] [--alpha-background COLOR]
                   [--out DIR] [--force] [--threads T] IMAGE|TENSOR.npy
                   heatmap of the evidence for a class (default: the predicted one) on the patch grid, and with
                   --full at every pixel (exact, by dense evaluation), each beside the same map less its mean
                   (what stands out when all evidence has one sign); the K patches with the most and least
                   evidence; a JSON summary and the maps as .npy, in DIR (default:
                   bagnet4j-output/IMAGE-explained). For a ResNet or DenseNet: its class activation map (no
                   --full or --region).
              patches [--model M] --class NAME|INDEX [--top K] [--labels CSV | --by-folder] [--out DIR]
                   [--resize N] [--crop N] [--no-resize] [--max-pixels N] [--alpha-background COLOR]
                   [--force] [--threads T] IMAGE|DIR...
                   the K patches with the most evidence for a class across many images, in one streaming pass;
                   with true labels (CSV of file,label, or each image's folder name) also the distracting
                   patches from images of other classes. Writes contact sheets and JSON to DIR (default:
                   bagnet4j-output/patches).
              scramble [--model M] [--tiles N] [--seed S] [--out DIR] [--force] [--resize N] [--crop N]
                   [--no-resize] [--max-pixels N] [--alpha-background COLOR] [--threads T] IMAGE
                   shuffles N x N tiles of the image and shows the top-5 and the heatmaps before and after (on
                   one colour scale): a bag-of-local-features decision barely depends on the object's shape.
                   Writes to DIR (default: bagnet4j-output/IMAGE-scrambled).
              compare [--model CNN ...] [--bagnet B ...] [DATA [--labels FILE] | --idx IMAGES LABELS]
                   [--limit N] [--threads T] [--seed S] [--shuffle-seeds 3] [--sides P,P] [--gaps D,D,...]
                   [--patch P] [--k 16] [--examples 4] [--max-pixels N] [--out DIR] [--force]
                   are CNNs bags of local features? The paper's four signatures for every model: accuracy
                   after shuffling N x N tiles; interactions of two occluded squares of side P at gap D;
                   similarity of errors and logits; and how fast each CNN's true-class logit drops when
                   patches are occluded in the order of each BagNet's heatmap, of the CNN's own occlusion map
                   and class activation map, or at random. DATA: a folder with one subfolder of images per
                   class (sorted names = class indices, or --labels: the folder names in class order, one
                   per line), or Fashion-MNIST's IDX files (gzip or not). A rerun of an interrupted run
                   continues where it stopped.
                   Without models: the embedded CNNs against the embedded BagNets, on Debian's Fashion-MNIST
                   test set if installed, else on the bundled samples. Writes report.md (tables and what they
                   show), report.json (every number), plots of each curve, and for the first --examples images
                   each BagNet's heatmap and each CNN's occlusion map, to DIR (default:
                   bagnet4j-output/compare). Occluded pixels are set to 0 after normalization (the data mean).
              serve [--model M ...] [--host 127.0.0.1] [--port 8080] [--threads T] [--queue 64]
                   [--max-upload-mb 20] [--max-pixels 25000000] [--timeout 60] [--token SECRET]
                   an HTTP API (POST /v1/classify, POST /v1/explain, GET /v1/models, /healthz, /metrics) and, at
                   /, a page that shows the evidence for each class over an uploaded image. Up to T requests
                   compute at once (all cores; a request alone uses all T); up to --queue more wait, the rest
                   get 503. Models are named by file name less extension (?model=NAME); without --model, every
                   model embedded in the jar. --token: the API wants "Authorization: Bearer SECRET".
                   --timeout: seconds a request may take to arrive, to wait and compute, and to be answered.
                   Runs until Ctrl-C or SIGTERM, which let the requests in flight finish (for up to a minute).
                   Requests write nothing to disk.
              bench [--model M | --preset NAME] [--size 224] [--batch 1] [--threads T] [--iters 20]
                   [--warmup 5] [--layers] [--json]
                   median and minimum latency per image, images/s and GFLOP/s of the class scores; --layers:
                   also each kernel of a pass (median ms, GFLOP/s) and the totals per kind of layer. Presets:
                   bagnet9|17|33, resnet18|34|50|101|152, wide_resnet50_2|101_2, vgg11|13|16|19[_bn],
                   densenet121|161|169|201 (random weights).
              run  [--model M.safetensors] --input X.npy --output Y.npy [--grid] [--threads T]
                   X: float32 images, NCHW (or CHW), normalized. Y: class scores [N, classes], or with --grid
                   the patch-logit grid [N, gh, gw, classes] (a ResNet's or DenseNet's class activation map).
              convert [--arch NAME] [--labels FILE] [--force] CHECKPOINT OUT.safetensors
                   a PyTorch checkpoint (.pth, .pth.tar, .pt, .bin; zip or legacy format, read without running
                   anything in it) to a safetensors model file, as weights-converter/convert.py writes it. The
                   architecture is recognized from the tensors (--arch: require a preset); --labels: class
                   names, one per line. Optional: every command reads checkpoints directly too.
              info [M.safetensors | --preset NAME]
                   family, architecture, parameter count; for a BagNet its receptive field and grid at 224x224.
              help [COMMAND]
                   this text, or one command's (also: bagnet4j COMMAND --help).

            Model files: BagNets, and torchvision's ResNet, VGG and DenseNet families, as safetensors (convert,
            or weights-converter/convert.py) or PyTorch checkpoints; patches and scramble take BagNets only.
            Without --model (or a model file for info) the model embedded in the jar is used.
            """ + OUTPUTS + """
            exit codes: 0 success, 1 some images could not be read (the others were processed), 2 error.
            """;

    private Commands() {
    }

    /** The commands, in the order of {@link #USAGE}. */
    static final List<String> COMMANDS = List.of("demo", "classify", "explain", "patches", "scramble", "compare",
            "serve", "bench", "run", "convert", "info");

    /** Runs a command; returns its exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || isHelp(args[0])) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("help") || Arrays.stream(args).skip(1).anyMatch(Commands::isHelp)) {
            String command = args[0].equals("help") ? (args.length > 1 ? args[1] : "help") : args[0];
            if (command.equals("help")) {
                out.print(USAGE);
                return 0;
            }
            if (!COMMANDS.contains(command)) {
                err.println("bagnet4j: unknown command '" + printable(command) + "' (see: bagnet4j help)");
                return 2;
            }
            out.print(help(command));
            return 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return switch (args[0]) {
                case "classify" -> ClassifyCommand.run(rest, out, err);
                case "run" -> RunCommand.run(rest, err);
                case "info" -> InfoCommand.run(rest, out, err);
                case "convert" -> ConvertCommand.run(rest, out, err);
                case "demo" -> DemoCommand.run(rest, out, err);
                case "explain" -> ExplainCommand.run(rest, out, err);
                case "patches" -> PatchesCommand.run(rest, out, err);
                case "scramble" -> ScrambleCommand.run(rest, out, err);
                case "bench" -> BenchCommand.run(rest, out, err);
                case "compare" -> CompareCommand.run(rest, out, err);
                case "serve" -> ServeCommand.run(rest, out, err);
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            err.println("bagnet4j: " + printable(e.getMessage()) + " (see: bagnet4j "
                    + (COMMANDS.contains(args[0]) ? printable(args[0]) + " --help" : "help") + ")");
            return 2;
        } catch (BagNetException e) {
            err.println("bagnet4j: " + printable(e.getMessage()));
            return 2;
        } catch (OutOfMemoryError e) {
            err.println("bagnet4j: out of memory; give java more heap, e.g. BAGNET4J_JAVA_OPTS=-Xmx4g bin/bagnet4j ..."
                    + " (or java -Xmx4g -jar)");
            return 2;
        } catch (RuntimeException e) {
            err.println("bagnet4j: " + printable(unexpected(e)));
            return 2;
        }
    }

    private static boolean isHelp(String arg) {
        return arg.equals("--help") || arg.equals("-h");
    }

    /** A command's own block of {@link #USAGE}: its usage line(s) and what it does. */
    static String help(String command) {
        StringBuilder block = new StringBuilder();
        boolean inside = false;
        for (String line : USAGE.lines().toList()) {
            boolean commandLine = line.matches("  [a-z]+( .*)?");
            if (commandLine) {
                inside = line.startsWith("  " + command + " ");
                if (inside) {
                    block.append("usage: bagnet4j ").append(line.strip()).append('\n');
                    continue;
                }
            }
            if (inside && !line.isBlank()) {
                block.append(line.startsWith("       ") ? line.substring(3) : line).append('\n');
            } else if (inside) {
                inside = false;
            }
        }
        return block.toString().contains("--force") ? block + OUTPUTS : block.toString();
    }

    /** One line for a failure no check foresaw (a bug): what it was and where, without a stack trace. */
    static String unexpected(Throwable e) {
        StackTraceElement[] trace = e.getStackTrace();
        return "unexpected " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " (" + e.getMessage()
                + ")") + (trace.length == 0 ? "" : " at " + trace[0]) + "; please report it";
    }
}
