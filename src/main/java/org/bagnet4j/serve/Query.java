package org.bagnet4j.serve;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** A request's query parameters, each known to its endpoint and given once; anything else is a 400. */
final class Query {
    private final Map<String, String> values;

    private Query(Map<String, String> values) {
        this.values = values;
    }

    static Query parse(String raw, Set<String> allowed) {
        Map<String, String> values = new LinkedHashMap<>();
        if (raw != null && !raw.isEmpty()) {
            for (String pair : raw.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (!allowed.contains(name)) {
                    throw new HttpError(400, "unknown parameter '" + name + "'" + (allowed.isEmpty()
                            ? "; this endpoint takes none" : "; this endpoint takes " + String.join(", ",
                            allowed.stream().sorted().toList())));
                }
                if (values.put(name, value) != null) {
                    throw new HttpError(400, "parameter '" + name + "' is given twice");
                }
            }
        }
        return new Query(values);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, "malformed query string (bad %-escape)");
        }
    }

    /** The value, or null. */
    String get(String name) {
        return values.get(name);
    }

    int intValue(String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new HttpError(400, "parameter '" + name + "' must be a whole number from " + min + " to " + max
                + ", got '" + v + "'");
    }

    boolean flag(String name) {
        String v = values.get(name);
        if (v == null) {
            return false;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "", "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw new HttpError(400, "parameter '" + name + "' must be true or false, got '" + v + "'");
        };
    }
}
