package org.bagnet4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bagnet4j.BagNet;
import org.bagnet4j.Model;
import org.bagnet4j.cli.Commands;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API over java.net.http: every endpoint, bad requests, tokens, overload, timeouts and shutdown. */
class ServerTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static Map<String, Model> models;
    private static Server server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        models = new LinkedHashMap<>();
        models.put("bagnet", Model.embedded(BagNet.EMBEDDED_NAME, 1));
        models.put("resnet", Model.embedded("fashion-mnist-resnet.safetensors", 1));
        models.put("vgg", Model.embedded("fashion-mnist-vgg.safetensors", 1));
        server = Server.start(models, settings(2, 4, 1 << 20, 10_000, 30, null));
    }

    @AfterAll
    static void stop() {
        server.stop(1);
    }

    static ServeSettings settings(int threads, int queue, long maxUpload, long maxPixels, int timeout, String token) {
        return new ServeSettings("127.0.0.1", 0, threads, queue, maxUpload, maxPixels, timeout, token);
    }

    static byte[] sample(String name) throws IOException {
        try (InputStream in = ServerTest.class.getResourceAsStream("/org/bagnet4j/samples/" + name)) {
            return in.readAllBytes();
        }
    }

    static HttpResponse<String> send(Server s, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.address().getPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, byte[] body) throws IOException, InterruptedException {
        return send(server, "POST", path, body);
    }

    private static String withoutTime(String json) {
        return json.strip().replaceAll(",\"ms\":[0-9.]+", "");
    }

    private static List<Float> values(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":\\{[^}]*\"values\":\\[([^\\]]*)\\]").matcher(json);
        assertThat(m.find()).as(field).isTrue();
        List<Float> values = new ArrayList<>();
        for (String v : m.group(1).split(",")) {
            values.add(Float.parseFloat(v));
        }
        return values;
    }

    @Test
    void healthModelsAndMetrics() throws Exception {
        HttpResponse<String> health = send(server, "GET", "/healthz", null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
        HttpResponse<String> list = send(server, "GET", "/v1/models", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(list.body()).contains("{\"name\":\"bagnet\",\"family\":\"bagnet\",\"architecture\":\"fashion-q13\"",
                "\"receptive_field\":13,\"grid_stride\":4", "{\"name\":\"resnet\",\"family\":\"resnet\"",
                "\"evidence\":\"class activation map\"", "{\"name\":\"vgg\"", "\"evidence\":null", "\"Ankle boot\"]");
        post("/v1/classify", sample("8-bag.png"));
        String metrics = send(server, "GET", "/metrics", null).body();
        assertThat(metrics).contains("bagnet4j_requests_total{endpoint=\"/v1/classify\",status=\"200\"}",
                "bagnet4j_request_seconds_bucket{endpoint=\"/v1/classify\",le=\"+Inf\"}", "bagnet4j_queue_depth 0",
                "# TYPE bagnet4j_request_seconds histogram", "bagnet4j_images_total", "bagnet4j_images_per_second");
        assertThat(send(server, "GET", "/", null).body()).contains("<title>bagnet4j evidence viewer</title>");
        HttpResponse<String> png = send(server, "GET", "/samples/3-dress.png", null);
        assertThat(png.statusCode()).isEqualTo(200);
        assertThat(png.headers().firstValue("Content-Type")).hasValue("image/png");
    }

    /** The same JSON as classify --json on the same file, raw body or multipart form, for every model. */
    @Test
    void classifyAnswersAsTheCommandLineDoes() throws Exception {
        for (String sample : List.of("9-ankle-boot.png", "6-shirt.png")) {
            Path file = dir.resolve(sample);
            Files.write(file, sample(sample));
            for (String name : models.keySet()) {
                String modelFile = name.equals("bagnet") ? BagNet.EMBEDDED_NAME : "fashion-mnist-" + name + ".safetensors";
                Path modelPath = dir.resolve(modelFile);
                try (InputStream in = Model.class.getResourceAsStream("models/" + modelFile)) {
                    Files.copy(in, modelPath, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                int code = Commands.run(new String[] {"classify", "--json", "--top", "3", "--model",
                        modelPath.toString(), file.toString()}, new PrintStream(out), new PrintStream(
                        new ByteArrayOutputStream()));
                assertThat(code).isZero();
                String expected = withoutTime(out.toString(StandardCharsets.UTF_8));

                String boundary = "b0undary";
                ByteArrayOutputStream form = new ByteArrayOutputStream();
                form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--"
                        + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + file
                        + "\"\r\nContent-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                form.writeBytes(sample(sample));
                form.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
                HttpResponse<String> r = send(server, "POST", "/v1/classify?model=" + name + "&top=3",
                        form.toByteArray(), "Content-Type", "multipart/form-data; boundary=" + boundary);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(withoutTime(r.body())).isEqualTo(expected);

                HttpResponse<String> raw = post("/v1/classify?model=" + name + "&top=3", sample(sample));
                assertThat(withoutTime(raw.body())).isEqualTo(expected.replaceFirst("\"file\":\"[^\"]*\"", "\"file\":\"upload\""));
            }
        }
    }

    /** The grid is the engine's evidence map; its mean is the class logit; full=true gives the exact map. */
    @Test
    void explainGivesTheEvidenceMap() throws Exception {
        byte[] png = sample("9-ankle-boot.png");
        HttpResponse<String> r = post("/v1/explain?class=Sandal&full=true&patches=3", png);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        BagNet bagNet = (BagNet) models.get("bagnet");
        Tensor x = bagNet.preprocessing().apply(ImageDecoder.read(png, "s", 1000, null));
        EvidenceMap grid = Explainer.grid(bagNet, x, 5);
        EvidenceMap full = Explainer.fullResolution(bagNet, x, 5, null, null);
        List<Float> served = values(r.body(), "grid");
        assertThat(served).hasSize(grid.values().length);
        for (int i = 0; i < served.size(); i++) {
            assertThat((double) served.get(i)).isCloseTo(grid.values()[i], org.assertj.core.data.Offset.offset(
                    1e-5 * (1 + Math.abs(grid.values()[i]))));
        }
        List<Float> servedFull = values(r.body(), "full");
        assertThat(servedFull).hasSize(full.values().length).hasSize(34 * 34);
        for (int i = 0; i < servedFull.size(); i += 37) {
            assertThat((double) servedFull.get(i)).isCloseTo(full.values()[i], org.assertj.core.data.Offset.offset(
                    1e-5 * (1 + Math.abs(full.values()[i]))));
        }
        assertThat(r.body()).contains(String.format(java.util.Locale.ROOT,
                "\"class\":{\"index\":5,\"label\":\"Sandal\",\"logit\":%.6g}", grid.mean()),
                "\"grid\":{\"kind\":\"patch evidence\",\"width\":6,\"height\":6,\"patch\":13,\"stride\":4,\"x0\":0,\"y0\":0",
                "\"image\":{\"width\":34,\"height\":34,\"png\":\"iVBOR", "\"receptive_field\":13",
                "\"overlay_png\":\"iVBOR");
        assertThat(r.body().split("\"box\"", -1)).hasSize(1 + 6);

        HttpResponse<String> cam = post("/v1/explain?model=resnet", png);
        assertThat(cam.statusCode()).as(cam.body()).isEqualTo(200);
        assertThat(cam.body()).contains("\"kind\":\"class activation map\"", "\"label\":\"Ankle boot\"");
        assertThat(post("/v1/explain?model=resnet&full=true", png).body()).contains("full=true needs a BagNet");
        assertThat(post("/v1/explain?model=vgg", png).body()).contains("fashion-vgg (vgg) has no evidence map");
    }

    @Test
    void badRequestsGetOneLineErrorsWithTheRightStatus() throws Exception {
        byte[] png = sample("0-t-shirt-top.png");
        assertError(post("/v1/classify", "not an image".getBytes(StandardCharsets.UTF_8)), 400,
                "upload: not an image in a format Java can read");
        assertError(post("/v1/classify", new byte[0]), 400, "the request has no body");
        assertError(post("/v1/classify", new byte[(1 << 20) + 1]), 413, "larger than the server's limit of 1,048,576");
        HttpResponse<String> wrongMethod = send(server, "GET", "/v1/classify", null);
        assertError(wrongMethod, 405, "GET is not allowed here; use POST");
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
        assertError(send(server, "POST", "/v1/models", png), 405, "POST is not allowed here; use GET");
        assertError(post("/v1/classify?model=nope", png), 404, "unknown model 'nope'; this server has bagnet, resnet, vgg");
        assertError(post("/v1/explain?class=Dres", png), 400, "unknown class 'Dres'; closest names: Dress");
        assertError(post("/v1/explain?class=10", png), 400, "class index 10 is outside 0-9");
        assertError(post("/v1/classify?top=0", png), 400, "parameter 'top' must be a whole number from 1 to 10");
        assertError(post("/v1/classify?size=3", png), 400, "unknown parameter 'size'; this endpoint takes model, top");
        assertError(post("/v1/explain?full=maybe", png), 400, "parameter 'full' must be true or false");
        assertError(send(server, "GET", "/v2/nothing", null), 404, "no such endpoint: /v2/nothing");
        assertError(send(server, "GET", "/samples/../pom.xml", null), 404, "no sample named");
        assertError(send(server, "POST", "/v1/classify", png, "Content-Type", "multipart/form-data"), 400,
                "multipart/form-data without a boundary");
        assertError(send(server, "POST", "/v1/classify", png, "Content-Type", "multipart/form-data; boundary="
                + "-".repeat(71)), 400, "multipart boundary longer than 70 characters");
        assertError(post("/v1/explain?model=resnet&full=true", "not read".getBytes(StandardCharsets.UTF_8)), 400,
                "full=true needs a BagNet");
        HttpResponse<String> head = send(server, "HEAD", "/healthz", null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        try (Server small = Server.start(models, settings(1, 1, 1 << 20, 28 * 28 - 1, 30, null))) {
            assertError(send(small, "POST", "/v1/classify", png), 400,
                    "upload: image is 28x28 = 784 pixels, above the limit of 783 pixels");
        }
    }

    /**
     * A refused upload is answered every time, though the client is still sending it: the server reads the rest
     * before it answers and closes (without that, TCP reset the connection about once in 150 tries here).
     */
    @Test
    void anOverLimitUploadIsAnsweredEveryTime() throws Exception {
        byte[] body = new byte[(1 << 20) + 1];
        for (int i = 0; i < 200; i++) {
            assertError(post("/v1/classify", body), 413, "larger than the server's limit");
        }
    }

    /** Keeps a server's (single) compute thread busy until the returned latch is counted down. */
    private static CountDownLatch holdComputeThread(Server server) {
        CountDownLatch release = new CountDownLatch(1);
        server.admission().executor().submit(() -> {
            release.await();
            return null;
        });
        return release;
    }

    private static void assertError(HttpResponse<String> r, int status, String message) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).startsWith("{\"error\":\"").contains(message).doesNotContain("\n").doesNotContain("at org.");
    }

    @Test
    void aTokenGuardsTheApiButNotHealth() throws Exception {
        try (Server guarded = Server.start(models, settings(1, 1, 1 << 20, 10_000, 30, "s3cret"))) {
            byte[] png = sample("1-trouser.png");
            assertError(send(guarded, "POST", "/v1/classify", png), 401, "this server wants a token");
            assertError(send(guarded, "POST", "/v1/classify", png, "Authorization", "Bearer wrong"), 401, "wrong token");
            assertError(send(guarded, "GET", "/v1/models", null), 401, "wants a token");
            assertError(send(guarded, "GET", "/metrics", null), 401, "wants a token");
            assertThat(send(guarded, "POST", "/v1/classify", png, "Authorization", "Bearer s3cret").body())
                    .contains("\"label\":\"Trouser\"");
            assertThat(send(guarded, "GET", "/v1/models", null, "Authorization", "bearer s3cret").statusCode())
                    .isEqualTo(200);
            assertThat(send(guarded, "GET", "/healthz", null).statusCode()).isEqualTo(200);
            assertThat(send(guarded, "GET", "/", null).statusCode()).isEqualTo(200);
        }
    }

    /**
     * With the compute thread held, threads + queue requests are admitted and wait; the rest get 503 with
     * Retry-After at once; when the thread is free, every admitted request succeeds.
     */
    @Test
    void overloadGets503AndTheAdmittedStillSucceed() throws Exception {
        try (Server busy = Server.start(models, settings(1, 2, 1 << 20, 10_000, 60, null))) {
            CountDownLatch release = holdComputeThread(busy);
            byte[] png = sample("7-sneaker.png");
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                calls.add(CompletableFuture.<HttpResponse<String>>supplyAsync(() -> {
                    try {
                        return send(busy, "POST", "/v1/classify", png);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            // The five beyond the three places are refused while the others wait.
            long refused = 0;
            for (long deadline = System.nanoTime() + 30_000_000_000L; refused < 5 && System.nanoTime() < deadline; ) {
                refused = calls.stream().filter(c -> c.isDone() && c.join().statusCode() == 503).count();
                Thread.sleep(20);
            }
            assertThat(refused).isEqualTo(5);
            assertThat(calls.stream().filter(CompletableFuture::isDone).count()).isEqualTo(5);
            for (CompletableFuture<HttpResponse<String>> c : calls) {
                if (c.isDone()) {
                    assertThat(c.join().headers().firstValue("Retry-After")).hasValue("1");
                    assertThat(c.join().body()).contains("the server is at capacity");
                }
            }
            assertThat(send(busy, "GET", "/metrics", null).body()).contains("bagnet4j_queue_depth 3");
            release.countDown();
            for (CompletableFuture<HttpResponse<String>> c : calls) {
                assertThat(c.join().statusCode()).isIn(200, 503);
            }
            assertThat(calls.stream().filter(c -> c.join().statusCode() == 200).count()).isEqualTo(3);
            assertThat(send(busy, "POST", "/v1/classify", png).body()).contains("\"label\":\"Sneaker\"");
        }
    }

    @Test
    void aRequestThatWaitsTooLongTimesOut() throws Exception {
        try (Server slow = Server.start(models, settings(1, 1, 1 << 20, 10_000, 1, null))) {
            CountDownLatch release = holdComputeThread(slow);
            assertError(send(slow, "POST", "/v1/classify", sample("5-sandal.png")), 503, "timed out");
            release.countDown();
            assertThat(send(slow, "POST", "/v1/classify", sample("5-sandal.png")).statusCode()).isEqualTo(200);
        }
    }

    /** stop() lets a request in flight finish before the server ends. */
    @Test
    void stoppingLetsRequestsInFlightFinish() throws Exception {
        Server stopping = Server.start(models, settings(1, 1, 1 << 20, 10_000, 30, null));
        CountDownLatch release = holdComputeThread(stopping);
        CompletableFuture<HttpResponse<String>> call = CompletableFuture.<HttpResponse<String>>supplyAsync(() -> {
            try {
                return send(stopping, "POST", "/v1/classify", sample("2-pullover.png"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        while (stopping.admission().queued() == 0) {
            Thread.sleep(10);
        }
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> stopping.stop(20));
        Thread.sleep(300);
        assertThat(stopped).isNotDone();
        release.countDown();
        assertThat(call.join().statusCode()).isEqualTo(200);
        stopped.join();
    }
}
