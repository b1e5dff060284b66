package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;
import org.bagnet4j.Cnn;
import org.bagnet4j.Model;
import org.bagnet4j.tensor.Npy;
import org.bagnet4j.tensor.Tensor;

/**
 * {@code run}: raw tensors in, class scores or the evidence grid out (a BagNet's patch logits, a ResNet's class
 * activation map), as .npy files.
 */
final class RunCommand {
    /** Options that take no value. */
    static final Set<String> SWITCHES = Set.of("grid");
    /** Every option the command accepts (its help lists each). */
    static final Set<String> OPTIONS = Set.of("model", "input", "output", "grid", "threads");
    private RunCommand() {
    }

    static int run(String[] args, PrintStream err) {
        Options options = Options.parse(args, SWITCHES, OPTIONS).withoutArguments("run");
        Npy.Array input = Npy.read(ArgumentPath.of(options.required("input")));
        Path output = ArgumentPath.of(options.required("output"));
        int threads = options.threads();
        int[] s = input.shape();
        if (s.length == 3) {
            s = new int[] {1, s[0], s[1], s[2]};
        }
        if (s.length != 4) {
            throw new BagNetException("input must be a float32 array [N, C, H, W] or [C, H, W], got shape "
                    + Arrays.toString(input.shape()));
        }
        Model net = ModelChoice.load(options, threads, err);
        if (s[1] != net.architecture().inChannels()) {
            throw new BagNetException("input has " + s[1] + " channels (NCHW axis 1) but " + net.architecture().name()
                    + " expects " + net.architecture().inChannels());
        }
        Tensor images = Tensor.fromNchw(input.data(), s[0], s[1], s[2], s[3]);
        long start = System.nanoTime();
        if (options.has("grid")) {
            Tensor grid = switch (net) {
                case BagNet bagNet -> bagNet.patchLogits(images);
                case Cnn cnn -> cnn.classActivationMap(images);
            };
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
                (System.nanoTime() - start) / 1e6, printable(output.toString()));
        return 0;
    }
}
