package org.bagnet4j.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.nio.channels.UnresolvedAddressException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.bagnet4j.BagNetException;
import org.bagnet4j.Model;
import org.bagnet4j.weights.Json;

/**
 * The HTTP service: the JSON API over one or more loaded models and the evidence viewer page, on the JDK's own
 * HTTP server. Requests are read and answered on virtual threads; their computations run under {@link Admission}.
 * Every error is a JSON body {"error": "..."} with its status; nothing is written to disk.
 *
 * <pre>
 * GET  /                      the viewer page (self-contained)
 * GET  /samples/NAME          a sample image bundled in the jar (the page's ?sample=NAME)
 * GET  /healthz               {"status": "ok"}
 * GET  /metrics               Prometheus text format
 * GET  /v1/models             the models served
 * POST /v1/classify?model=&amp;top=                            classify --json's object
 * POST /v1/explain?model=&amp;class=&amp;full=&amp;patches=       evidence map, patches, overlay
 * </pre>
 *
 * The JDK's server reads its own limits once per JVM, when the first server starts: the time to read a request
 * and to write an answer (set here to the first server's timeout) and the number of connections.
 */
public final class Server implements AutoCloseable {
    private static final String SAMPLES = "/org/bagnet4j/samples/";
    /** The JDK server's limits on the time to read a request and to write an answer, in seconds. */
    private static final List<String> TIME_LIMITS = List.of("sun.net.httpserver.maxReqTime",
            "sun.net.httpserver.maxRspTime");
    /** The JDK server's limit on open connections; beyond it, new ones are closed at once. */
    private static final String MAX_CONNECTIONS = "jdk.httpserver.maxConnections";
    private static final int DEFAULT_MAX_CONNECTIONS = 1024;

    private final Map<String, Model> models;
    private final ServeSettings settings;
    private final HttpServer http;
    private final ExecutorService requests;
    private final Admission admission;
    private final Metrics metrics;
    private final byte[] page;
    private final Set<String> samples;

    private Server(Map<String, Model> models, ServeSettings settings) throws IOException {
        this.models = new LinkedHashMap<>(models);
        this.settings = settings;
        this.admission = new Admission(settings.threads(), settings.queue(), 1);
        this.metrics = new Metrics(admission::queued, admission::running);
        this.page = resource("/org/bagnet4j/serve/viewer.html");
        this.samples = Set.copyOf(new String(resource(SAMPLES + "index.txt"), StandardCharsets.UTF_8).lines()
                .map(String::strip).filter(s -> !s.isEmpty() && !s.startsWith("#")).map(s -> s.split("\\s+")[0])
                .toList());
        for (String limit : TIME_LIMITS) {
            if (System.getProperty(limit) == null) {
                System.setProperty(limit, Integer.toString(settings.timeoutSeconds()));
            }
        }
        if (System.getProperty(MAX_CONNECTIONS) == null) {
            System.setProperty(MAX_CONNECTIONS, Integer.toString(DEFAULT_MAX_CONNECTIONS));
        }
        this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 0);
        this.requests = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(requests);
        http.createContext("/", this::handle);
    }

    /**
     * Starts serving {@code models} (by name, the first is the default). A port in use or an address that cannot
     * be bound is a BagNetException.
     */
    public static Server start(Map<String, Model> models, ServeSettings settings) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no models to serve");
        }
        Server server;
        try {
            server = new Server(models, settings);
        } catch (IOException | IllegalArgumentException e) {
            throw new BagNetException(cannotListen(settings, e));
        }
        server.http.start();
        return server;
    }

    /** Why the server cannot listen where it was asked to, in a line. */
    public static String cannotListen(ServeSettings settings, Exception e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        boolean inUse = e instanceof BindException && reason.toLowerCase(Locale.ROOT).contains("in use");
        return "cannot listen on " + settings.host() + ":" + settings.port() + " (" + (e instanceof
                UnresolvedAddressException ? "unknown host" : reason) + (inUse ? "; is another server using the port?"
                : "") + ")";
    }

    /** Where the server listens (with the port it got when 0 was asked). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /**
     * Stops taking connections and lets the requests in flight finish, all within about {@code graceSeconds}; then
     * stops the compute threads.
     */
    public void stop(int graceSeconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
        http.stop(graceSeconds);
        admission.shutdown();
        requests.shutdown();
        try {
            requests.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop(0);
    }

    /** The admission control, for tests that need every compute thread busy. */
    Admission admission() {
        return admission;
    }

    private void handle(HttpExchange exchange) {
        long start = System.nanoTime();
        String endpoint = "other";
        int status;
        try {
            String path = exchange.getRequestURI().getPath();
            endpoint = endpoint(path);
            status = route(exchange, path, start);
        } catch (HttpError e) {
            status = error(exchange, e.status(), e.getMessage(), e.retryAfter());
        } catch (BagNetException e) {
            status = error(exchange, 400, e.getMessage(), 0);
        } catch (OutOfMemoryError e) {
            status = error(exchange, 503, "out of memory for this request; try a smaller image", 1);
        } catch (IOException e) {
            status = 499; // the client went away; nothing can be answered
        } catch (Throwable e) {
            // A bug: said in a line on stderr for the operator, and as little as that to the client.
            System.err.println("bagnet4j: serve: internal error on " + endpoint + ": " + e
                    + (e.getStackTrace().length > 0 ? " at " + e.getStackTrace()[0] : ""));
            status = error(exchange, 500, "internal error (" + e.getClass().getSimpleName() + "); see the server's log",
                    0);
        } finally {
            exchange.close();
        }
        metrics.request(endpoint, status, (System.nanoTime() - start) / 1e9);
    }

    /** The endpoint a path counts under in the metrics (a fixed set, whatever clients ask for). */
    private static String endpoint(String path) {
        return switch (path) {
            case "/", "/healthz", "/metrics", "/v1/models", "/v1/classify", "/v1/explain" -> path;
            default -> path.startsWith("/samples/") ? "/samples" : "other";
        };
    }

    private int route(HttpExchange exchange, String path, long start) throws IOException {
        switch (path) {
            case "/" -> {
                requireMethod(exchange, "GET");
                Query.parse(exchange.getRequestURI().getRawQuery(), Set.of("sample", "model"));
                return send(exchange, 200, "text/html; charset=utf-8", page);
            }
            case "/healthz" -> {
                requireMethod(exchange, "GET");
                return sendJson(exchange, 200, "{\"status\":\"ok\"}");
            }
            case "/metrics" -> {
                requireMethod(exchange, "GET");
                authorize(exchange);
                return send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.render().getBytes(StandardCharsets.UTF_8));
            }
            case "/v1/models" -> {
                requireMethod(exchange, "GET");
                authorize(exchange);
                Query.parse(exchange.getRequestURI().getRawQuery(), Set.of());
                return sendJson(exchange, 200, Answers.models(models));
            }
            case "/v1/classify", "/v1/explain" -> {
                requireMethod(exchange, "POST");
                authorize(exchange);
                return compute(exchange, path.equals("/v1/explain"), start);
            }
            default -> {
                if (path.startsWith("/samples/")) {
                    requireMethod(exchange, "GET");
                    return sample(exchange, path.substring("/samples/".length()));
                }
                throw new HttpError(404, "no such endpoint: " + path + " (see GET /v1/models, POST /v1/classify, "
                        + "POST /v1/explain)");
            }
        }
    }

    private int compute(HttpExchange exchange, boolean explain, long start) throws IOException {
        Query query = Query.parse(exchange.getRequestURI().getRawQuery(), explain
                ? Set.of("model", "class", "full", "patches") : Set.of("model", "top"));
        String name = modelName(query.get("model"));
        Model model = models.get(name);
        if (model.preprocessing() == null) {
            throw new HttpError(400, "model '" + name + "' takes tensors, not images");
        }
        // Everything that can be refused is refused before the upload is read.
        int count = explain ? query.intValue("patches", 8, 1, Answers.MAX_PATCHES)
                : query.intValue("top", 5, 1, model.architecture().numClasses());
        boolean full = explain && query.flag("full");
        String cls = query.get("class");
        if (cls != null && !cls.isBlank()) {
            model.classIndex(cls);
        }
        if (explain) {
            Answers.checkExplainable(model, full);
        }
        long deadline = start + TimeUnit.SECONDS.toNanos(settings.timeoutSeconds());
        try (Admission.Ticket ticket = admission.enter()) {
            Upload upload = Upload.read(exchange.getRequestHeaders(), exchange.getRequestBody(),
                    settings.maxUploadBytes());
            String json = ticket.compute(() -> explain
                    ? Answers.explain(model, upload.file(), cls, full, count, settings.maxPixels())
                    : Answers.classify(model, upload.file(), count, settings.maxPixels()), deadline);
            metrics.image();
            return sendJson(exchange, 200, json);
        }
    }

    /** The model a request names (the first one when it names none), refused with 404 when not served. */
    private String modelName(String name) {
        if (name == null || name.isBlank()) {
            return models.keySet().iterator().next();
        }
        Model model = models.get(name);
        if (model == null) {
            throw new HttpError(404, "unknown model '" + name + "'; this server has " + String.join(", ",
                    models.keySet()));
        }
        return name;
    }

    private int sample(HttpExchange exchange, String name) throws IOException {
        if (!samples.contains(name)) {
            throw new HttpError(404, "no sample named '" + name + "'; the samples are " + String.join(", ",
                    samples.stream().sorted().toList()));
        }
        return send(exchange, 200, "image/png", resource(SAMPLES + name));
    }

    private void authorize(HttpExchange exchange) {
        if (settings.token() == null) {
            return;
        }
        String given = exchange.getRequestHeaders().getFirst("Authorization");
        String scheme = "bearer ";
        boolean bearer = given != null && given.strip().toLowerCase(Locale.ROOT).startsWith(scheme);
        byte[] expected = settings.token().getBytes(StandardCharsets.UTF_8);
        if (!bearer || !MessageDigest.isEqual(expected, given.strip().substring(scheme.length()).strip()
                .getBytes(StandardCharsets.UTF_8))) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            throw new HttpError(401, given == null ? "this server wants a token: Authorization: Bearer TOKEN"
                    : "wrong token");
        }
    }

    /** Refuses any other method (HEAD goes with GET). */
    private static void requireMethod(HttpExchange exchange, String allowed) {
        String method = exchange.getRequestMethod();
        boolean head = method.equals("HEAD") && allowed.equals("GET");
        if (!method.equals(allowed) && !head) {
            exchange.getResponseHeaders().set("Allow", allowed.equals("GET") ? "GET, HEAD" : allowed);
            throw new HttpError(405, method + " is not allowed here; use " + allowed);
        }
    }

    /**
     * An error's answer, after the rest of the request's body is read and dropped (see {@link #discardBody}). The
     * connection is closed after it.
     */
    private int error(HttpExchange exchange, int status, String message, int retryAfter) {
        discardBody(exchange);
        if (retryAfter > 0) {
            exchange.getResponseHeaders().set("Retry-After", Integer.toString(retryAfter));
        }
        exchange.getResponseHeaders().set("Connection", "close");
        try {
            return sendJson(exchange, status, "{\"error\":" + Json.quote(message) + "}");
        } catch (IOException e) {
            return status;
        }
    }

    /**
     * Reads what is left of the request's body, at most as much as an accepted upload, and drops it. A client
     * that is still sending when the connection closes with its data unread gets a reset from TCP and may lose
     * the answer before reading it (the JDK's server itself reads only 64 KiB); the time this takes is bounded
     * by the server's time limit on reading a request.
     */
    private void discardBody(HttpExchange exchange) {
        byte[] sink = new byte[1 << 16];
        try (InputStream body = exchange.getRequestBody()) {
            for (long left = settings.maxUploadBytes(), n; left > 0
                    && (n = body.read(sink, 0, (int) Math.min(sink.length, left))) >= 0; ) {
                left -= n;
            }
        } catch (IOException e) {
            // the client went away: nothing more to read
        }
    }

    private static int sendJson(HttpExchange exchange, int status, String json) throws IOException {
        return send(exchange, status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends an answer (its headers alone to a HEAD request). */
    private static int send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
        return status;
    }

    private static byte[] resource(String name) {
        try (InputStream in = Server.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource missing from the jar: " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }
}
