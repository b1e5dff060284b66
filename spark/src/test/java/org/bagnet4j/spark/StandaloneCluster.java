package org.bagnet4j.spark;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Spark standalone cluster on this machine, without a Spark distribution: a master and workers, each its own
 * JVM started from the test's class path, on 127.0.0.1 and free ports. Executors get the same class path and the
 * Vector API module through the configuration of {@link #driverConf}.
 */
final class StandaloneCluster implements AutoCloseable {
    private static final Duration START = Duration.ofSeconds(90);

    private final Path home;
    private final String classPath;
    private final List<Process> processes = new ArrayList<>();
    private final String masterUrl;

    /** Starts a master and {@code workers} workers of one core and {@code memoryMb} MB each; waits until all are up. */
    StandaloneCluster(Path home, int workers, int memoryMb) throws IOException, InterruptedException {
        this.home = home;
        // Surefire runs the tests from a manifest-only jar; it names the real class path in this property.
        this.classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // Spark's launcher wants SPARK_HOME/jars to exist; the executors' classes come from extraClassPath instead.
        Files.createDirectories(home.resolve("jars"));
        int port = freePort();
        masterUrl = "spark://127.0.0.1:" + port;
        Path masterLog = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                String.valueOf(port), "--webui-port", String.valueOf(freePort()));
        awaitLine(masterLog, "I have been elected leader");
        for (int i = 0; i < workers; i++) {
            Path work = Files.createDirectories(home.resolve("work-" + i));
            Path log = start("worker-" + i, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--port", String.valueOf(freePort()), "--webui-port", String.valueOf(freePort()), "--cores", "1",
                    "--memory", memoryMb + "m", "--work-dir", work.toString(), masterUrl);
            awaitLine(log, "Successfully registered with master");
        }
    }

    String masterUrl() {
        return masterUrl;
    }

    /** What a driver needs to run on this cluster: executors with our class path, the Vector API, little memory. */
    Map<String, String> driverConf(int executorMemoryMb) {
        return Map.of("spark.executor.extraClassPath", classPath,
                "spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector",
                "spark.executor.memory", executorMemoryMb + "m",
                "spark.driver.host", "127.0.0.1",
                "spark.driver.bindAddress", "127.0.0.1",
                "spark.ui.enabled", "false");
    }

    /** The logs of the master, the workers and the executors, for a failure's message. */
    String logs() throws IOException {
        StringBuilder all = new StringBuilder();
        try (var files = Files.walk(home)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log") || p.endsWith("stderr")).toList()) {
                all.append("== ").append(f).append('\n').append(tail(Files.readString(f), 4000));
            }
        }
        return all.toString();
    }

    private Path start(String name, String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-cp", classPath, mainClass));
        command.addAll(List.of(args));
        Path log = home.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("SPARK_HOME", home.toString());
        // The worker starts executors with JAVA_HOME's java: the JDK running the tests.
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // Else Spark's launcher looks for the Scala version in a source build's folders.
        builder.environment().put("SPARK_SCALA_VERSION", "2.13");
        processes.add(builder.start());
        return log;
    }

    private void awaitLine(Path log, String line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            for (Process p : processes) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("a cluster process ended: " + logs());
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no '" + line + "' in " + log + " after " + START + ": " + logs());
    }

    /** Stops the workers (and so their executors) and the master, forcibly after a grace period. */
    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : processes.reversed()) {
            p.descendants().forEach(all::add);
            all.add(p.toHandle());
        }
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : s.substring(s.length() - n);
    }
}
