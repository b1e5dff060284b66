package org.bagnet4j.serve;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageOutputStream;

import org.bagnet4j.BagNet;
import org.bagnet4j.Cnn;
import org.bagnet4j.Model;
import org.bagnet4j.Prediction;
import org.bagnet4j.Preprocessing;
import org.bagnet4j.explain.EvidenceMap;
import org.bagnet4j.explain.Explainer;
import org.bagnet4j.explain.ImageEvidence;
import org.bagnet4j.explain.Patch;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.tensor.Tensor;
import org.bagnet4j.weights.Json;

/** What the API computes for one request, as JSON. Runs on a compute thread; the model is shared by all. */
final class Answers {
    /** Most patches asked for with {@code top} in an explanation. */
    static final int MAX_PATCHES = 256;

    private Answers() {
    }

    /** The same object as one line of {@code classify --json}. */
    static String classify(Model model, Upload.File upload, int top, long maxPixels) {
        long start = System.nanoTime();
        Tensor input = model.preprocessing().apply(decode(upload, maxPixels), maxPixels);
        float[] scores = model.classScores(input)[0];
        List<Prediction> ranked = Prediction.top(scores, model.labels(), Math.min(top, scores.length));
        return Prediction.toJson(upload.name(), ranked, (System.nanoTime() - start) / 1e6);
    }

    /** Refuses, before any upload is read, an explanation the model cannot give. */
    static void checkExplainable(Model model, boolean full) {
        if (model instanceof Cnn cnn) {
            if (full) {
                throw new HttpError(400, "full=true needs a BagNet: a " + cnn.architecture().name()
                        + "'s cells each see most of the image, so it has no map of small patches");
            }
            if (!cnn.hasClassActivationMap()) {
                throw new HttpError(400, cnn.architecture().name() + " (" + cnn.architecture().family() + ") has no "
                        + "evidence map: its classifier is not a linear layer after global average pooling");
            }
        }
    }

    /**
     * A class's evidence map (a BagNet's patch grid, a ResNet's or DenseNet's class activation map), with the
     * image the model saw, the strongest and weakest patches, an overlay picture and, for a BagNet with
     * {@code full}, the exact map at every pixel ({@link #checkExplainable} has passed).
     */
    static String explain(Model model, Upload.File upload, String classParam, boolean full, int patches,
            long maxPixels) {
        long start = System.nanoTime();
        Preprocessing prep = model.preprocessing();
        RgbImage seen = prep.geometry(decode(upload, maxPixels), maxPixels);
        Tensor x = prep.normalize(seen);
        ImageEvidence evidence = ImageEvidence.of(model, x, true);
        float[] scores = evidence.scores();
        List<Prediction> ranked = Prediction.top(scores, model.labels(), Math.min(5, scores.length));
        int target = classParam == null || classParam.isBlank() ? ranked.getFirst().index()
                : model.classIndex(classParam);
        EvidenceMap grid = evidence.map(target);
        EvidenceMap fullMap = full && model instanceof BagNet bagNet
                ? Explainer.fullResolution(bagNet, x, target, null, null) : null;
        String kind = model instanceof BagNet ? "patch evidence" : "class activation map";
        List<Patch> best = Explainer.top(grid, patches, upload.name());
        List<Patch> worst = Explainer.bottom(grid, patches, upload.name());
        String subtitle = String.format(Locale.ROOT, "%s: logit %.3f = the mean of a %dx%d %s", upload.name(),
                grid.mean(), grid.width(), grid.height(), kind);
        StringBuilder sb = new StringBuilder("{\"file\":").append(Json.quote(upload.name()));
        sb.append(",\"top\":[");
        for (int i = 0; i < ranked.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(ranked.get(i).toJson());
        }
        sb.append(String.format(Locale.ROOT, "],\"class\":{\"index\":%d,\"label\":%s,\"logit\":%.6g}",
                grid.classIndex(), Json.quote(grid.label()), grid.mean()));
        sb.append(String.format(Locale.ROOT, ",\"image\":{\"width\":%d,\"height\":%d,\"png\":\"%s\"}", seen.width(),
                seen.height(), png(Pictures.toBufferedImage(seen))));
        sb.append(",\"grid\":").append(map(grid, kind));
        if (fullMap != null) {
            sb.append(",\"full\":").append(map(fullMap, "patch evidence at every pixel"));
        }
        if (model instanceof BagNet bagNet) {
            sb.append(",\"receptive_field\":").append(bagNet.receptiveField());
        }
        sb.append(",\"most_evidence\":").append(patches(best));
        sb.append(",\"least_evidence\":").append(patches(worst));
        sb.append(",\"overlay_png\":\"").append(png(Pictures.heatmap(seen, grid, subtitle))).append('"');
        return sb.append(String.format(Locale.ROOT, ",\"ms\":%.1f}", (System.nanoTime() - start) / 1e6)).toString();
    }

    /** GET /v1/models: every model served, in the order given. */
    static String models(Map<String, Model> models) {
        StringBuilder sb = new StringBuilder("{\"models\":[");
        boolean first = true;
        for (Map.Entry<String, Model> e : models.entrySet()) {
            Model m = e.getValue();
            Preprocessing prep = m.preprocessing();
            sb.append(first ? "" : ",").append("{\"name\":").append(Json.quote(e.getKey()));
            sb.append(",\"family\":").append(Json.quote(m.architecture().family()));
            sb.append(",\"architecture\":").append(Json.quote(m.architecture().name()));
            sb.append(",\"classes\":").append(m.architecture().numClasses());
            sb.append(",\"input_channels\":").append(m.architecture().inChannels());
            if (prep != null) {
                sb.append(String.format(Locale.ROOT, ",\"preprocessing\":{\"resize\":%d,\"crop\":%d,\"pad\":%d}",
                        prep.resize(), prep.crop(), prep.pad()));
            }
            switch (m) {
                case BagNet b -> sb.append(String.format(Locale.ROOT,
                        ",\"evidence\":\"patch grid\",\"receptive_field\":%d,\"grid_stride\":%d", b.receptiveField(),
                        b.gridStride()));
                case Cnn c when c.hasClassActivationMap() -> sb.append(String.format(Locale.ROOT,
                        ",\"evidence\":\"class activation map\",\"grid_stride\":%d", c.cellStride()));
                case Cnn c -> sb.append(",\"evidence\":null");
            }
            sb.append(",\"labels\":[");
            List<String> names = m.labels().names();
            for (int i = 0; i < names.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(Json.quote(names.get(i)));
            }
            sb.append("]}");
            first = false;
        }
        return sb.append("]}").toString();
    }

    private static RgbImage decode(Upload.File upload, long maxPixels) {
        return ImageDecoder.read(upload.bytes(), upload.name(), maxPixels, null);
    }

    /** A map's geometry and values (row-major): box of cell (x, y) = offset + left + x * stride, ... + patch. */
    private static String map(EvidenceMap m, String kind) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "{\"kind\":%s,\"width\":%d,\"height\":%d,\"patch\":%d,\"stride\":%d,\"x0\":%d,\"y0\":%d,\"values\":[",
                Json.quote(kind), m.width(), m.height(), m.patch(), m.stride(), m.offset() + m.left(),
                m.offset() + m.top()));
        float[] v = m.values();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6g", v[i]));
        }
        return sb.append("]}").toString();
    }

    /** Patches: grid cell, value, and box [x0, y0, x1, y1) in the pixels of the image the model saw. */
    private static String patches(List<Patch> patches) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < patches.size(); i++) {
            Patch p = patches.get(i);
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"cell\":[%d,%d],\"value\":%.6g,\"box\":[%d,%d,%d,%d]}", p.x(), p.y(), p.value(), p.box().x0(),
                    p.box().y0(), p.box().x1(), p.box().y1()));
        }
        return sb.append("]").toString();
    }

    /** A picture as base64 PNG, encoded in memory (ImageIO's default stream would cache to a file). */
    private static String png(BufferedImage image) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            if (!ImageIO.write(image, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a PNG in memory", e);
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
}
