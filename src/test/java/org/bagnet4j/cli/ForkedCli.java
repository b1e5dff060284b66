package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The CLI as a user meets it: in a JVM of its own, in a working directory of the test's, on the bundled samples. */
final class ForkedCli {
    private ForkedCli() {
    }

    /** Runs the CLI in {@code workingDirectory}; returns stdout and stderr together, after checking it succeeded. */
    static String run(Path workingDirectory, String... args) throws IOException, InterruptedException {
        return run(workingDirectory, List.of(), args);
    }

    /** {@link #run(Path, String...)} in a JVM with these options (e.g. -Xmx300m). */
    static String run(Path workingDirectory, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "-cp",
                Path.of("target", "classes").toAbsolutePath().toString(), Main.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        return output;
    }

    /** Copies one of the sample images bundled in the jar (e.g. "9-ankle-boot.png") to {@code target}. */
    static Path sample(String name, Path target) throws IOException {
        try (InputStream in = ForkedCli.class.getResourceAsStream("/org/bagnet4j/samples/" + name)) {
            Files.copy(in, target);
        }
        return target;
    }
}
