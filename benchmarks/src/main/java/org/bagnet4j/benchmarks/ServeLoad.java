package org.bagnet4j.benchmarks;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import javax.imageio.ImageIO;

import org.bagnet4j.Architecture;
import org.bagnet4j.BagNetConfig;
import org.bagnet4j.Model;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.cli.Commands;
import org.bagnet4j.serve.ServeSettings;
import org.bagnet4j.serve.Server;
import org.bagnet4j.weights.SafetensorsWriter;

/**
 * The HTTP service under load, on loopback: 1, 4 and 16 concurrent clients each posting 224x224 JPEGs to
 * /v1/classify until {@code requests} are answered, against a server with one compute thread per core; throughput,
 * median and 99th-percentile latency. Beside it, in the same run, {@code classify} (the CLI, in this JVM) on the same
 * number of the same JPEGs as files, on as many threads: the server's overhead per image at saturation. Usage:
 * ServeLoad [preset] [requests] (default bagnet33, 48; random weights).
 */
public final class ServeLoad {
    private static final int DISTINCT_IMAGES = 16;

    private ServeLoad() {
    }

    public static void main(String[] args) throws Exception {
        BagNetConfig config = BagNetConfig.preset(args.length > 0 ? args[0] : "bagnet33");
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 48;
        int threads = Runtime.getRuntime().availableProcessors();
        Path dir = Files.createTempDirectory("bagnet4j-serve-load");
        Path modelFile = dir.resolve(config.name() + ".safetensors");
        writeRandomModel(config, modelFile);
        List<byte[]> jpegs = jpegs(DISTINCT_IMAGES);
        Path images = Files.createDirectories(dir.resolve("images"));
        for (int i = 0; i < requests; i++) {
            Files.write(images.resolve(String.format(Locale.ROOT, "%04d.jpg", i)), jpegs.get(i % jpegs.size()));
        }

        String[] classify = {"classify", "--model", modelFile.toString(), "--threads", Integer.toString(threads),
            "--json", images.toString()};
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        Commands.run(classify, discard, discard); // warm-up
        long start = System.nanoTime();
        Commands.run(classify, discard, discard);
        double cliPerSecond = requests / ((System.nanoTime() - start) / 1e9);

        Map<String, Model> models = new LinkedHashMap<>();
        models.put("model", Model.load(modelFile, threads));
        ServeSettings settings = ServeSettings.defaults(threads).withPort(0);
        try (Server server = Server.start(models, settings)) {
            URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1/classify");
            HttpClient client = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4)).build();
            load(client, uri, jpegs, threads, 2L * threads); // warm-up
            System.out.printf(Locale.ROOT, "%s (random weights), 224x224 JPEGs, %d requests per row, %d compute "
                    + "threads; classify on the same files: %.2f images/s%n%n", config.name(), requests, threads,
                    cliPerSecond);
            System.out.println("| clients | images/s | p50 ms | p99 ms | server / classify throughput |");
            System.out.println("|---|---|---|---|---|");
            for (int clients : new int[] {1, 4, 16}) {
                long t0 = System.nanoTime();
                double[] latencies = load(client, uri, jpegs, clients, requests);
                double perSecond = requests / ((System.nanoTime() - t0) / 1e9);
                Arrays.sort(latencies);
                System.out.printf(Locale.ROOT, "| %d | %.2f | %.0f | %.0f | %.3f |%n", clients, perSecond,
                        percentile(latencies, 50), percentile(latencies, 99), perSecond / cliPerSecond);
            }
        }
        System.exit(0);
    }

    /** Latencies in ms of {@code total} requests sent by {@code clients} clients, each one request at a time. */
    private static double[] load(HttpClient client, URI uri, List<byte[]> jpegs, int clients, long total)
            throws Exception {
        AtomicInteger next = new AtomicInteger();
        double[] latencies = new double[(int) total];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                running.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < total; ) {
                        long start = System.nanoTime();
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(jpegs.get(i % jpegs.size()))).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException(r.statusCode() + " " + r.body());
                        }
                        latencies[i] = (System.nanoTime() - start) / 1e6;
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        return latencies;
    }

    private static double percentile(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }

    /** Smooth random colour fields, as JPEG files of 224x224 (so that the model's resize and crop keep 224). */
    private static List<byte[]> jpegs(int count) throws Exception {
        Random random = new Random(7);
        List<byte[]> files = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            BufferedImage image = new BufferedImage(224, 224, BufferedImage.TYPE_INT_RGB);
            double fx = 0.01 + 0.05 * random.nextDouble();
            double fy = 0.01 + 0.05 * random.nextDouble();
            for (int y = 0; y < 224; y++) {
                for (int x = 0; x < 224; x++) {
                    int r = (int) (127 + 120 * Math.sin(fx * x + n));
                    int g = (int) (127 + 120 * Math.cos(fy * y - n));
                    int b = (int) (127 + 120 * Math.sin(fx * x + fy * y));
                    image.setRGB(x, y, r << 16 | g << 8 | b);
                }
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, "jpeg", out);
            files.add(out.toByteArray());
        }
        return files;
    }

    /** A model file with seeded random weights and ImageNet normalization, resized and cropped to 224. */
    private static void writeRandomModel(Architecture architecture, Path file) {
        Map<String, String> metadata = new LinkedHashMap<>(architecture.toMetadata());
        metadata.putAll(Preprocessing.imagenet().withSize(224, 224).toMetadata());
        SafetensorsWriter.write(file, metadata, architecture.tensorShapes(), Model.randomParameters(architecture, 1));
    }
}
