package org.bagnet4j.cli;

import static org.bagnet4j.BagNetException.printable;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.serve.ServeSettings;
import org.bagnet4j.serve.Server;

/**
 * {@code serve}: the HTTP API and the evidence viewer, until SIGTERM or Ctrl-C; requests in flight then finish
 * (within --timeout seconds). Up to --threads requests compute at once on models loaded for that many threads: a
 * request alone uses them all, and requests at once share them layer by layer (README "Many images").
 */
final class ServeCommand {
    static final Set<String> OPTIONS = Set.of("model", "host", "port", "threads", "max-upload-mb", "max-pixels",
            "queue", "token", "timeout");
    /** Most requests that may wait for a compute thread. */
    static final int MAX_QUEUE = 100_000;
    /**
     * Largest image by default: 25 megapixels decode to about 175 MB, on each compute thread at once (the other
     * commands allow 100, for one image at a time).
     */
    static final long DEFAULT_MAX_PIXELS = 25_000_000L;
    /** Longest that stopping waits for requests in flight. */
    static final int MAX_GRACE_SECONDS = 60;

    private ServeCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(args, Set.of(), OPTIONS).withoutArguments("serve");
        int threads = options.threads();
        ServeSettings settings = new ServeSettings(options.has("host") ? options.required("host") : "127.0.0.1",
                options.intValue("port", ServeSettings.DEFAULT_PORT, 0, 65535), threads,
                options.intValue("queue", ServeSettings.DEFAULT_QUEUE, 0, MAX_QUEUE),
                (long) options.intValue("max-upload-mb", ServeSettings.DEFAULT_MAX_UPLOAD_MB, 1, 2047) << 20,
                options.longValue("max-pixels", DEFAULT_MAX_PIXELS, 1, Long.MAX_VALUE),
                options.intValue("timeout", ServeSettings.DEFAULT_TIMEOUT_SECONDS, 1, 86_400),
                options.has("token") ? token(options.required("token")) : null);
        checkAddress(settings);
        Map<String, Model> models = load(options, threads, err);
        Server server = Server.start(models, settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("bagnet4j: stopping: finishing the requests in flight");
            server.stop(Math.min(settings.timeoutSeconds(), MAX_GRACE_SECONDS));
            stopped.countDown();
        }));
        String host = server.address().getAddress().getHostAddress();
        out.printf(Locale.ROOT, "bagnet4j: serving %s on http://%s:%d/ (%d thread%s, queue %d%s); stop with Ctrl-C%n",
                printable(String.join(", ", models.keySet())), host.contains(":") ? "[" + host + "]" : host,
                server.address().getPort(), threads, threads == 1 ? "" : "s", settings.queue(),
                settings.token() != null ? ", token required" : "");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The --model files by name (file name less extension), or every model embedded in the jar. */
    private static Map<String, Model> load(Options options, int threads, PrintStream err) {
        Map<String, Model> models = new LinkedHashMap<>();
        if (options.all("model").isEmpty()) {
            err.println("bagnet4j: no --model given: serving the models embedded in the jar (Fashion-MNIST), "
                    + "the BagNet first (the default)");
            for (String name : Model.EMBEDDED) {
                models.put(stem(name), Model.embedded(name, threads));
            }
            return models;
        }
        for (String arg : options.all("model")) {
            Path path = ArgumentPath.of(arg);
            String name = stem(path.getFileName().toString());
            if (models.containsKey(name)) {
                throw new UsageException("two models are named '" + name + "'; the API tells models apart by file "
                        + "name, less its extension");
            }
            Model model = Model.load(path, threads);
            model.warnings().forEach(w -> err.println("bagnet4j: warning: " + name + ": " + w));
            models.put(name, model);
        }
        return models;
    }

    /** A busy port or an unknown host is said before the models load (the server binds again after them). */
    private static void checkAddress(ServeSettings settings) {
        if (settings.port() == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(settings.host(), settings.port()));
        } catch (IOException | IllegalArgumentException e) {
            throw new BagNetException(Server.cannotListen(settings, e));
        }
    }

    private static String stem(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        for (String extension : new String[] {".safetensors", ".pth.tar", ".pth", ".pt", ".bin"}) {
            if (lower.endsWith(extension) && lower.length() > extension.length()) {
                return fileName.substring(0, fileName.length() - extension.length());
            }
        }
        return fileName;
    }

    private static String token(String token) {
        if (token.isBlank() || !token.chars().allMatch(c -> c > 32 && c < 127)) {
            throw new UsageException("--token needs printable ASCII without spaces");
        }
        return token;
    }
}
