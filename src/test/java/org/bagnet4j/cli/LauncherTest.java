package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bagnet4j.ReferenceFixtures;
import org.junit.jupiter.api.Test;

/** The CLI starts without --add-modules typed by the user, and JVM options reach the relaunched JVM. */
class LauncherTest {
    @Test
    void relaunchesWithTheVectorModuleAndKeepsJvmOptions() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classes = Path.of("target", "classes").toString();
        String out = ReferenceFixtures.exec(List.of(java, "-Xmx96m", "-Dbagnet4j.probe=yes", "-cp", classes,
                Main.class.getName(), "info", "--preset", "bagnet33"));
        assertThat(out).contains("bagnet33", "18,310,184", "33 x 33 pixels");
        Process p = new ProcessBuilder(java, "-Xmx96m", "-cp", classes, Main.class.getName(), "run").start();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(err).contains("bagnet4j: missing --input");
    }

    /** README: without the Vector API module the API is not relaunched; loading a model says what is missing. */
    @Test
    void theApiWithoutTheVectorModuleSaysSo() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = Path.of("target", "classes") + File.pathSeparator + Path.of("target", "test-classes");
        String out = ReferenceFixtures.exec(List.of(java, "-cp", classpath, LoadEmbeddedModel.class.getName()));
        assertThat(out.strip()).isEqualTo("BagNetException: bagnet4j needs the Vector API: start java (JDK 25 or "
                + "later) with --add-modules jdk.incubator.vector");
    }

    /** The relaunched JVM ends with its launcher: when the launcher is killed (SIGKILL), and on a SIGTERM. */
    @Test
    void theRelaunchedJvmEndsWithItsLauncher() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (boolean kill : new boolean[] {true, false}) {
            Process launcher = new ProcessBuilder(java, "-cp", Path.of("target", "classes").toString(),
                    Main.class.getName(), "bench", "--threads", "1", "--warmup", "0", "--iters", "1000000")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            ProcessHandle child = null;
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (child == null && System.nanoTime() < deadline) {
                    child = launcher.toHandle().children().findFirst().orElse(null);
                    Thread.sleep(50);
                }
                assertThat(child).as("relaunched JVM").isNotNull();
                if (kill) {
                    launcher.destroyForcibly();
                } else {
                    launcher.destroy();
                }
                assertThat(child.onExit().get(20, TimeUnit.SECONDS).isAlive()).as(kill ? "after SIGKILL" : "after "
                        + "SIGTERM").isFalse();
            } finally {
                launcher.destroyForcibly();
                if (child != null) {
                    child.destroyForcibly();
                }
            }
        }
    }
}
