package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.cli.CommandsTest.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** serve as a user starts it: bad options and a busy port in one line, and a SIGTERM that ends it cleanly. */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void startUpProblemsAreOneLineWithExitCode2() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CommandsTest.Result r = cli("serve", "--port", Integer.toString(taken.getLocalPort()));
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err().lines().filter(l -> !l.startsWith("bagnet4j: no --model")).toList()).singleElement()
                    .asString().startsWith("bagnet4j: cannot listen on 127.0.0.1:" + taken.getLocalPort())
                    .contains("is another server using the port?");
        }
        assertThat(cli("serve", "--port", "70000").err()).contains("--port must be between 0 and 65535");
        assertThat(cli("serve", "--queue", "-1").err()).contains("--queue must be between 0 and 100000");
        assertThat(cli("serve", "--token", "has space").err()).contains("--token needs printable ASCII");
        assertThat(cli("serve", "extra").err()).contains("serve takes no arguments");
        CommandsTest.Result missing = cli("serve", "--model", dir.resolve("none.safetensors").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("none.safetensors").hasLineCount(1);
        Path bagnet = dir.resolve("a.safetensors");
        try (var in = org.bagnet4j.Model.class.getResourceAsStream("models/fashion-mnist-bagnet.safetensors")) {
            Files.copy(in, bagnet);
        }
        Files.createDirectories(dir.resolve("b"));
        Files.copy(bagnet, dir.resolve("b/a.safetensors"));
        assertThat(cli("serve", "--model", bagnet.toString(), "--model", dir.resolve("b/a.safetensors").toString())
                .err()).contains("two models are named 'a'");
    }

    /**
     * The README's curl lines against the server as the README starts it (its port replaced by a free one), then a
     * SIGTERM, which lets the server answer what it has before the JVM ends.
     */
    @Test
    void theReadmeExamplesRunAndSigtermStopsTheServer() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", Path.of("target", "classes").toAbsolutePath()
                        .toString(), Main.class.getName(), "serve", "--port", "0", "--threads", "1");
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("err.txt").toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            Matcher url = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/").matcher(String.valueOf(first));
            assertThat(url.find()).as(first + Files.readString(dir.resolve("err.txt"))).isTrue();
            String port = url.group(1);
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            runReadmeCurls(port);
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(dir.resolve("err.txt"))).contains("bagnet4j: stopping: finishing the "
                    + "requests in flight").doesNotContain("Exception");
        } finally {
            p.destroyForcibly();
        }
    }

    private void runReadmeCurls(String port) throws Exception {
        if (!curlInstalled()) {
            String why = "no curl on PATH (install Debian's curl, or run bash .ci/run)";
            if ("required".equals(System.getProperty("bagnet4j.reference"))) {
                throw new IllegalStateException("-Dbagnet4j.reference=required, but " + why);
            }
            System.out.println("bagnet4j: README curl examples skipped: " + why);
            return;
        }
        String readme = Files.readString(Path.of("README.md"));
        Matcher block = Pattern.compile("With the server running \\(`bin/bagnet4j serve`\\), from another shell:\\n\\n"
                + "```sh\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(block.find()).isTrue();
        List<String> lines = block.group(1).lines().toList();
        assertThat(lines).hasSizeGreaterThanOrEqualTo(5).allMatch(l -> l.startsWith("curl -s ")
                && l.contains("localhost:8080/"));
        for (String line : lines) {
            Process curl = new ProcessBuilder("bash", "-c", line.replace("localhost:8080", "127.0.0.1:" + port))
                    .redirectErrorStream(true).start();
            String answer = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor()).as(line + "\n" + answer).isZero();
            assertThat(answer).as(line).isNotEmpty().doesNotContain("\"error\"");
            if (line.contains("/v1/classify") || line.contains("/v1/explain")) {
                assertThat(answer).as(line).startsWith("{").contains("\"label\":\"");
            }
        }
    }

    private static boolean curlInstalled() {
        try {
            return new ProcessBuilder("curl", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
