package org.bagnet4j.cli;

/**
 * Text from outside (file names, model metadata, option values) made safe to print on a terminal: control characters
 * (C0, DEL, C1) and the bidirectional overrides that reorder what is shown are printed as escapes, so a file name
 * cannot move the cursor, change colours, break a one-line message or disguise itself.
 */
final class TerminalText {
    private TerminalText() {
    }

    static String escape(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isUnsafe(c)) {
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

    private static boolean isUnsafe(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u200e' || c == '\u200f'
                || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }
}
