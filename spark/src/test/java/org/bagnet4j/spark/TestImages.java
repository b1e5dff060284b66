package org.bagnet4j.spark;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.bagnet4j.cli.Commands;

/** The images the Spark tests score: the bundled Fashion-MNIST samples, the core's test photos, one broken file. */
final class TestImages {
    static final List<String> SAMPLES = List.of("0-t-shirt-top.png", "3-dress.png", "5-sandal.png",
            "9-ankle-boot.png");
    /** Real photos of several sizes, JPEG and PNG, one with an alpha channel (the core's src/test/resources). */
    static final List<String> PHOTOS = List.of("astronaut-portrait.jpg", "rocket.jpg", "chelsea.png",
            "coffee-alpha.png", "coins.png");
    static final String BROKEN = "broken.png";
    static final int READABLE = SAMPLES.size() + PHOTOS.size();

    private TestImages() {
    }

    /** Writes them all into {@code dir}/images; returns that folder. */
    static Path write(Path dir) throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        for (String name : SAMPLES) {
            try (InputStream in = Commands.class.getResourceAsStream("/org/bagnet4j/samples/" + name)) {
                Files.copy(in, images.resolve(name));
            }
        }
        for (String name : PHOTOS) { // the tests run in spark/
            Files.copy(Path.of("..", "src", "test", "resources", "photos", name), images.resolve(name));
        }
        Files.writeString(images.resolve(BROKEN), "not an image");
        return images;
    }

    static String name(String fileUri) {
        return Path.of(fileUri.replaceFirst("^file:", "")).getFileName().toString();
    }
}
