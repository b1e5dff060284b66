package org.bagnet4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.bagnet4j.kernels.VectorSupport;

/**
 * Entry point of {@code java -jar bagnet4j.jar}. A jar manifest cannot add a JDK module, so when the Vector API
 * module is missing this relaunches the same java with the same JVM options plus
 * {@code --add-modules jdk.incubator.vector}; options such as -Xmx given by the user carry over. The relaunched JVM
 * ends when the launcher does, however it ends (a SIGKILL runs no shutdown hook), and a SIGTERM to the launcher
 * reaches it through the launcher's shutdown hook; Ctrl-C reaches both, being sent to the whole process group.
 * Where the kernel offers transparent huge pages on request, the relaunched JVM asks for them too (5% faster passes
 * here, README "Speed": the weights and activations span fewer TLB entries), and it raises C2's loop unrolling limit
 * (6-7%), unless the user chose either way.
 */
public final class Main {
    /** Set in a relaunched JVM: the process id of the launcher. */
    private static final String LAUNCHER = "bagnet4j.launcher";
    /** Lets C2 unroll the kernels' large loop bodies further: 6-7% faster passes here (unrolling by hand is not). */
    private static final String LOOP_UNROLL = "-XX:LoopUnrollLimit=200";
    /** How the JVM's notice of an incubator module (printed at every start with --add-modules) begins. */
    private static final String INCUBATOR_NOTICE = "WARNING: Using incubator modules";
    /** How long the launcher, told to stop, waits for the relaunched JVM to finish what it is doing. */
    private static final int CHILD_GRACE_SECONDS = 90;

    private Main() {
    }

    public static void main(String[] args) {
        String launcher = System.getProperty(LAUNCHER);
        if (VectorSupport.available()) {
            if (launcher != null) {
                endWithLauncher(launcher);
            }
            System.exit(Commands.run(args, System.out, System.err));
        }
        if (launcher != null) {
            System.err.println("bagnet4j: the JVM has no " + VectorSupport.MODULE + " module; use a JDK 25 or later");
            System.exit(2);
        }
        System.exit(relaunch(args));
    }

    /** Ends this JVM when the launcher's process ends (the JDK polls a process that is not a child: within seconds). */
    private static void endWithLauncher(String pid) {
        Optional<ProcessHandle> parent;
        try {
            parent = ProcessHandle.of(Long.parseLong(pid));
        } catch (NumberFormatException e) {
            parent = Optional.empty();
        }
        parent.map(ProcessHandle::onExit).orElse(CompletableFuture.completedFuture(null)).thenRun(() -> {
            System.err.println("bagnet4j: the launching java process has ended; stopping");
            System.exit(2);
        });
    }

    /** Whether Linux grants transparent huge pages to a process that asks (mode "madvise" or "always"). */
    private static boolean hugePagesOnRequest() {
        try {
            String mode = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
            return mode.contains("[madvise]") || mode.contains("[always]");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Copies the relaunched JVM's stderr to ours as it comes (progress bars redraw a line without ending it), less
     * its first line if that is the JVM's notice that it uses an incubator module: said on every run, it is noise.
     */
    private static void copyErrors(InputStream errors) {
        byte[] notice = INCUBATOR_NOTICE.getBytes(StandardCharsets.US_ASCII);
        try (errors) {
            // Held back only while what came so far could still be the notice.
            int matched = 0;
            int b = errors.read();
            while (b >= 0 && matched < notice.length && b == notice[matched]) {
                matched++;
                b = errors.read();
            }
            if (matched == notice.length) {
                while (b >= 0 && b != '\n') {
                    b = errors.read();
                }
            } else {
                System.err.write(notice, 0, matched);
                if (b >= 0) {
                    System.err.write(b);
                }
            }
            System.err.flush();
            byte[] buffer = new byte[8192];
            for (int n; (n = errors.read(buffer)) >= 0; ) {
                System.err.write(buffer, 0, n);
                System.err.flush();
            }
        } catch (IOException e) {
            // The child has gone; what it said last is lost with it.
        }
    }

    private static int relaunch(String[] args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        List<String> options = ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(options);
        if (hugePagesOnRequest() && options.stream().noneMatch(o -> o.contains("TransparentHugePages"))) {
            command.add("-XX:+UseTransparentHugePages");
        }
        if (options.stream().noneMatch(o -> o.contains("LoopUnrollLimit"))) {
            command.add(LOOP_UNROLL);
        }
        command.addAll(List.of("--add-modules", VectorSupport.MODULE,
                "-D" + LAUNCHER + "=" + ProcessHandle.current().pid(),
                "-D" + Progress.TERMINAL + "=" + Progress.stderrIsTerminal(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        try {
            Process child = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
            // A SIGTERM is passed on, and answered when the child has finished (serve lets requests end first).
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                child.destroy();
                try {
                    child.waitFor(CHILD_GRACE_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            Thread errors = Thread.ofPlatform().daemon().start(() -> copyErrors(child.getErrorStream()));
            int status = child.waitFor();
            errors.join();
            return status;
        } catch (Exception e) {
            System.err.println("bagnet4j: cannot start " + java + " with the Vector API module: " + e.getMessage());
            return 2;
        }
    }
}
