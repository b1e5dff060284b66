package org.bagnet4j.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * A path given on the command line, as the file system names it. The JVM decodes its arguments in the platform's
 * encoding and turns bytes it cannot decode into U+FFFD, so a file whose name is not valid in that encoding (a
 * Latin-1 name on a UTF-8 system) cannot be opened by the name as typed; it is found instead among its folder's
 * entries, whose names decode the same way.
 */
final class ArgumentPath {
    private static final char UNDECODABLE = '\uFFFD';

    private ArgumentPath() {
    }

    static Path of(String argument) {
        Path path;
        try {
            path = Path.of(argument);
        } catch (InvalidPathException e) {
            throw new UsageException("not a valid path: '" + argument + "' (" + e.getReason() + ")");
        }
        if (argument.indexOf(UNDECODABLE) < 0 || Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                || path.getFileName() == null) {
            return path;
        }
        Path folder = path.getParent() == null ? null : of(path.getParent().toString());
        String name = path.getFileName().toString();
        Path match = null;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder == null ? Path.of(".") : folder)) {
            for (Path entry : entries) {
                if (entry.getFileName().toString().equals(name)) {
                    if (match != null) {
                        return path; // two names decode alike: neither is meant more than the other
                    }
                    match = folder == null ? entry.getFileName() : entry;
                }
            }
        } catch (IOException e) {
            return path;
        }
        return match == null ? path : match;
    }
}
