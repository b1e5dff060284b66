package org.bagnet4j.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

import org.bagnet4j.BagNetException;
import org.bagnet4j.explain.Pictures;
import org.bagnet4j.image.RgbImage;
import org.bagnet4j.weights.Json;

/** The patches command's outputs: a contact sheet per class and one JSON file with every patch. */
final class PatchSheets {
    private PatchSheets() {
    }

    static List<Path> write(Path dir, BagNetSpark.CollectionPatches found) {
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            StringBuilder json = new StringBuilder("{\"images\": ").append(found.images()).append(", \"failed\": ")
                    .append(found.failed()).append(", \"classes\": [");
            for (int slot = 0; slot < found.classes().length; slot++) {
                List<FoundPatch> most = found.most().get(slot);
                List<FoundPatch> least = found.least().get(slot);
                List<Pictures.Tile> tiles = new ArrayList<>();
                most.forEach(p -> tiles.add(tile(p)));
                least.forEach(p -> tiles.add(tile(p)));
                Path sheet = dir.resolve("class-" + found.classes()[slot] + ".png");
                try (OutputStream out = Files.newOutputStream(sheet)) {
                    ImageIO.write(Pictures.contactSheet(String.format(Locale.ROOT, "class %d '%s' across %d images: "
                            + "top row the %d patches with the most evidence, bottom row the %d with the least",
                            found.classes()[slot], found.labels().get(slot), found.images(), most.size(), least.size()),
                            tiles, Math.max(1, most.size())), "png", out);
                }
                written.add(sheet);
                json.append(slot == 0 ? "" : ", ").append(String.format(Locale.ROOT, "{\"index\": %d, \"label\": %s, ",
                        found.classes()[slot], Json.quote(found.labels().get(slot))));
                json.append("\"most_evidence\": ").append(patches(most)).append(", \"least_evidence\": ")
                        .append(patches(least)).append('}');
            }
            Path file = dir.resolve("patches.json");
            Files.writeString(file, json.append("]}\n").toString());
            written.add(file);
        } catch (IOException e) {
            throw new BagNetException("cannot write to " + dir + ": " + BagNetException.reason(e));
        }
        return written;
    }

    private static Pictures.Tile tile(FoundPatch p) {
        return new Pictures.Tile(new RgbImage(p.width(), p.height(), p.rgb()), String.format(Locale.ROOT,
                "evidence %+.3f", p.value()), Path.of(p.file().replaceFirst("^file:", "")).getFileName() + " @"
                + p.box()[0] + "," + p.box()[1]);
    }

    private static String patches(List<FoundPatch> patches) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < patches.size(); i++) {
            FoundPatch p = patches.get(i);
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                    "{\"file\": %s, \"cell\": [%d, %d], \"value\": %.6g, \"box\": [%d, %d, %d, %d]}", Json.quote(p.file()),
                    p.x(), p.y(), p.value(), p.box()[0], p.box()[1], p.box()[2], p.box()[3]));
        }
        return sb.append(']').toString();
    }
}
