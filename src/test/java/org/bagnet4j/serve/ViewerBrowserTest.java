package org.bagnet4j.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.bagnet4j.BagNet;
import org.bagnet4j.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The viewer page in a real browser: headless Chromium loads /?sample=NAME, which runs the page's own code on a
 * bundled sample (classify, then explain the top class), and the rendered DOM must show the right top class and an
 * evidence map. Needs Debian's chromium; skipped without it, or failing under -Dbagnet4j.reference=required (CI).
 */
class ViewerBrowserTest {
    @TempDir
    Path dir;

    static Optional<Path> chromium() {
        return Stream.of(System.getenv("PATH").split(File.pathSeparator))
                .flatMap(d -> Stream.of("chromium", "chromium-browser", "google-chrome").map(n -> Path.of(d, n)))
                .filter(Files::isExecutable).findFirst();
    }

    @Test
    void thePageShowsTheTopClassAndItsEvidence() throws Exception {
        Optional<Path> browser = chromium();
        if (browser.isEmpty()) {
            String why = "no chromium on PATH (install Debian's chromium, or run bash .ci/run)";
            if ("required".equals(System.getProperty("bagnet4j.reference"))) {
                throw new IllegalStateException("-Dbagnet4j.reference=required, but " + why);
            }
            assumeTrue(false, "browser test skipped: " + why);
        }
        Model bagNet = Model.embedded(BagNet.EMBEDDED_NAME, 1);
        try (Server server = Server.start(Map.of("fashion-mnist-bagnet", bagNet), ServerTest.settings(2, 4, 1 << 20,
                10_000, 30, null))) {
            String url = "http://127.0.0.1:" + server.address().getPort() + "/?sample=9-ankle-boot.png";
            String dom = browse(browser.get(), List.of("--dump-dom", url));
            assertThat(dom).contains("<body data-state=\"done\">");
            Matcher chosen = Pattern.compile("<li data-index=\"(\\d+)\" data-label=\"([^\"]+)\" class=\"chosen\">")
                    .matcher(dom);
            assertThat(chosen.find()).as(dom).isTrue();
            assertThat(chosen.group(2)).isEqualTo("Ankle boot");
            assertThat(dom.indexOf("<li data-index")).isEqualTo(chosen.start()); // the top class is the one shown
            assertThat(dom).containsPattern("<canvas id=\"map\" width=\"\\d+\" height=\"\\d+\" data-class-index=\"9\" "
                    + "data-cells=\"36\">");
            assertThat(dom).contains("Evidence for Ankle boot (logit ");

            Path shot = Path.of("target", "serve-viewer.png").toAbsolutePath();
            browse(browser.get(), List.of("--hide-scrollbars", "--window-size=1400,760", "--screenshot=" + shot, url));
            assertThat(Files.size(shot)).isGreaterThan(10_000);
        }
    }

    /** Runs headless Chromium with a budget of virtual time for the page's requests; returns its stdout. */
    private String browse(Path browser, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--no-first-run", "--user-data-dir=" + dir.resolve("profile"),
                "--virtual-time-budget=20000"));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("chromium.log").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("chromium.log"))).isZero();
        return out;
    }
}
