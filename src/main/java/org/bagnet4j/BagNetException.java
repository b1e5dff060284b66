package org.bagnet4j;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * A problem with a model file, a configuration or an input, described in one line: text taken from outside (file
 * names, header fields, metadata) appears in the message {@link #printable}, so that no message spans lines or
 * drives a terminal.
 */
public class BagNetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BagNetException(String message) {
        super(printable(message));
    }

    public BagNetException(String message, Throwable cause) {
        super(printable(message), cause);
    }

    /**
     * Text from outside made safe to show on one line: every {@link #unprintable} character becomes a hexadecimal
     * escape (ESC becomes {@code \x1b}), so a name cannot move the cursor, change colours, break a line or disguise
     * itself. Text without them is returned as it is.
     */
    public static String printable(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (unprintable(c)) {
                if (sb == null) {
                    sb = new StringBuilder(text.length() + 16).append(text, 0, i);
                }
                sb.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }

    /**
     * Why a file operation failed, in words and without the file's name (which the message around it gives):
     * {@code cannot write out/a.png: no such folder}, not the JDK's {@code out/a.png: out/a.png}.
     */
    public static String reason(IOException e) {
        String why = switch (e) {
            case AccessDeniedException a -> "permission denied";
            case NoSuchFileException n -> "no such file or folder";
            case FileAlreadyExistsException f -> "it already exists";
            case NotDirectoryException n -> "not a folder";
            case DirectoryNotEmptyException d -> "folder not empty";
            case FileSystemException f -> f.getReason();
            default -> e.getMessage();
        };
        return why == null || why.isBlank() ? e.getClass().getSimpleName() : why.strip().lines().findFirst().orElse("");
    }

    /**
     * Whether a character must not reach a terminal or a log as it is: control characters (C0, DEL, C1), line and
     * paragraph separators, and the bidirectional marks and overrides that reorder what is displayed.
     */
    public static boolean unprintable(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u061c' || c == '\u200e' || c == '\u200f'
                || (c >= '\u2028' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }
}
