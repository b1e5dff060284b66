package org.bagnet4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bagnet4j.BagNetException;

/**
 * Where a command writes its pictures and data. Every folder bagnet4j creates for them holds a marker file, so
 * that folder walks ({@code classify photos/}) skip bagnet4j's own outputs, and so that a later run may replace
 * what an earlier one wrote there. A file in a folder bagnet4j did not make is never overwritten without --force.
 */
final class OutputFolder {
    /** The marker file's name. */
    static final String MARKER = ".bagnet4j-output";
    /** Where outputs go when no --out is given: one clearly named folder in the working directory. */
    static final Path DEFAULT_ROOT = Path.of("bagnet4j-output");
    private static final String MARKER_TEXT = "This folder holds bagnet4j's outputs: folder walks skip it, and a new "
            + "run replaces the files an earlier one wrote here.\n";

    private OutputFolder() {
    }

    /** The folder --out names, or bagnet4j-output/NAME. */
    static Path chosen(Options options, String defaultName) {
        return options.has("out") ? ArgumentPath.of(options.required("out")) : DEFAULT_ROOT.resolve(defaultName);
    }

    /** The name of a default output folder for an input file: its name without extension, then "-" + what. */
    static String nameFor(Path input, String what) {
        Path name = input.toAbsolutePath().normalize().getFileName();
        return (name == null ? "input" : name.toString().replaceFirst("\\.[^.]+$", "")) + "-" + what;
    }

    /**
     * Checks, before any work, that the named files may be written into {@code dir}: a file that exists is
     * replaced only inside a folder bagnet4j made, or with {@code force}.
     */
    static void checkWritable(Path dir, List<String> names, boolean force) {
        if (force || madeByBagnet4j(dir)) {
            return;
        }
        for (String n : names) {
            Path existing = dir.resolve(n);
            if (Files.exists(existing)) {
                throw new UsageException(existing + " exists in a folder bagnet4j did not make; give another --out, "
                        + "or --force to overwrite it");
            }
        }
    }

    /** Creates {@code dir} and the missing folders above it, each with the marker. */
    static Path create(Path dir) {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.addFirst(p);
        }
        try {
            for (Path p : missing) {
                Files.createDirectories(p);
                Files.writeString(p.resolve(MARKER), MARKER_TEXT);
            }
        } catch (IOException e) {
            throw new BagNetException("cannot create the output folder " + dir + ": " + BagNetException.reason(e));
        }
        return dir;
    }

    /** Whether {@code dir} or a folder above it was made by bagnet4j for its outputs. */
    static boolean madeByBagnet4j(Path dir) {
        for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (isMarked(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether this folder itself carries the marker (what folder walks skip). */
    static boolean isMarked(Path dir) {
        return Files.isRegularFile(dir.resolve(MARKER));
    }
}
