package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.bagnet4j.ReferenceFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI starts without --add-modules typed by the user, and JVM options reach the relaunched JVM. */
class LauncherTest {
    @Test
    void relaunchesWithTheVectorModuleAndKeepsJvmOptions() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classes = Path.of("target", "classes").toString();
        String out = ReferenceFixtures.exec(List.of(java, "-Xmx96m", "-Dbagnet4j.probe=yes", "-cp", classes,
                Main.class.getName(), "info", "--preset", "bagnet33"));
        assertThat(out).contains("bagnet33", "18,310,184", "33 x 33 pixels").doesNotContain("WARNING");
        Process p = new ProcessBuilder(java, "-Xmx96m", "-cp", classes, Main.class.getName(), "run").start();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(err).contains("bagnet4j: missing --input");
    }

    /**
     * bin/bagnet4j as a user runs it: the script finds a Java 25, the jar's entry point hands over to the CLI, and
     * stderr carries bagnet4j's own lines only (the JVM's incubator-module notice is left out).
     */
    @Test
    void theLauncherScriptRunsTheJarWithoutJvmNoise(@TempDir Path tree) throws Exception {
        Path bin = Files.createDirectories(tree.resolve("bin"));
        for (String script : List.of("bagnet4j", "jdk25")) {
            Files.copy(Path.of("bin", script), bin.resolve(script), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path jar = Files.createDirectories(tree.resolve("target")).resolve("bagnet4j.jar");
        jarOfClasses(Path.of("target", "classes"), jar);
        Process p = new ProcessBuilder(bin.resolve("bagnet4j").toString(), "info", "--preset", "bagnet9")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        assertThat(output).contains("receptive field:  9 x 9 pixels").doesNotContain("WARNING");
        Files.delete(jar);
        p = new ProcessBuilder(bin.resolve("bagnet4j").toString(), "info").redirectErrorStream(true).start();
        output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(output.strip()).startsWith("bagnet4j: ").contains("bagnet4j.jar is missing", "mvn -q package")
                .doesNotContain("\n");
    }

    /** An older default java (Debian's 17, where present) says in one line which Java the jar needs. */
    @Test
    void anOlderJavaIsToldWhichJavaItNeeds() throws Exception {
        Path old = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
        assumeTrue(Files.isExecutable(old), "no Java 17 here to try the jar with");
        Process p = new ProcessBuilder(old.toString(), "-cp", Path.of("target", "classes").toString(),
                JavaVersionGate.class.getName(), "info").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(output).isEqualTo("bagnet4j: needs Java 25 or later, but " + old + " is Java 17; run the jar"
                + " with a Java 25's bin/java (in the source tree, bin/bagnet4j finds one; bin/jdk25 prints where)\n");
    }

    /** A jar of the compiled classes whose entry point is the manifest's, as Maven's jar plugin makes it. */
    private static void jarOfClasses(Path classes, Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, JavaVersionGate.class.getName());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
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
