package org.bagnet4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs {@link RequiresReference} tests where Debian's reference tools are installed, and skips them elsewhere with
 * one line saying what is missing and how to get it. {@code -Dbagnet4j.reference=required} (CI) makes a missing
 * tool a failure instead, so that CI can never skip those tests silently.
 */
final class ReferenceCondition implements ExecutionCondition {
    /** Where Debian's dataset-fashion-mnist puts the data set. */
    static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final String HOW = "install Debian's python3-torch python3-torchvision python3-numpy python3-pil "
            + "dataset-fashion-mnist, or run bash .ci/run";
    private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();

    /** What is missing, looked for once per JVM (importing torch takes seconds); empty when nothing is. */
    private static final class Missing {
        static final String WHAT = missing();
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        boolean required = required();
        if (Missing.WHAT.isEmpty()) {
            return ConditionEvaluationResult.enabled("reference tools installed");
        }
        if (required) {
            throw new IllegalStateException("-Dbagnet4j.reference=required, but " + Missing.WHAT + "; " + HOW);
        }
        String line = "reference tests skipped: " + Missing.WHAT + "; to run them, " + HOW;
        if (!ANNOUNCED.getAndSet(true)) {
            System.out.println("bagnet4j: " + line);
        }
        return ConditionEvaluationResult.disabled(line);
    }

    private static boolean required() {
        String mode = System.getProperty("bagnet4j.reference", "auto");
        if (!mode.equals("auto") && !mode.equals("required")) {
            throw new IllegalArgumentException("-Dbagnet4j.reference must be auto or required, got '" + mode + "'");
        }
        return mode.equals("required");
    }

    private static String missing() {
        List<String> missing = new ArrayList<>();
        String problem = pythonProblem();
        if (!problem.isEmpty()) {
            missing.add(problem);
        }
        if (!Files.isDirectory(FASHION_MNIST)) {
            missing.add("no " + FASHION_MNIST);
        }
        return String.join(", ", missing);
    }

    /** What keeps the interpreter from importing the reference packages, in one phrase; empty when nothing does. */
    private static String pythonProblem() {
        String python = ReferenceFixtures.python();
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch, torchvision, numpy, PIL")
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int code = p.waitFor();
            String why = output.isEmpty() ? "exit code " + code : output.substring(output.lastIndexOf('\n') + 1);
            return code == 0 ? "" : python + " cannot import torch, torchvision, numpy and PIL (" + why + ")";
        } catch (IOException e) {
            return "cannot run " + python;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while running " + python;
        }
    }
}
