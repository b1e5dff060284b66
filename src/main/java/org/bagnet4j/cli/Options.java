package org.bagnet4j.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bagnet4j.image.ImageDecoder;
import org.bagnet4j.kernels.Workers;

/** A command's {@code --name value} options, {@code --switch} flags and positional arguments. */
final class Options {
    private final Map<String, String> values = new LinkedHashMap<>();
    /** Every value of an option given more than once (values keeps the last). */
    private final Map<String, List<String>> repeated = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /**
     * @param switches option names that take no value
     * @param allowed every option name the command knows (switches included)
     */
    static Options parse(String[] args, Set<String> switches, Set<String> allowed) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.equals("--")) {
                o.positional.add(a);
                continue;
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!allowed.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
            if (switches.contains(name)) {
                value = "true";
            } else if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException("option --" + name + " needs a value");
                }
                value = args[++i];
            }
            o.values.put(name, value);
            o.repeated.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
        }
        return o;
    }

    /** Refuses positional arguments, for a command that takes none. */
    Options withoutArguments(String command) {
        if (!positional.isEmpty()) {
            throw new UsageException(command + " takes no arguments, got '" + positional.getFirst() + "'");
        }
        return this;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException("missing --" + name);
        }
        return v;
    }

    /** A whole number option in [min, max], or the fallback when absent. */
    int intValue(String name, int fallback, int min, int max) {
        return (int) longValue(name, fallback, min, max);
    }

    /** A whole number option in [min, max], or the fallback when absent. */
    long longValue(String name, long fallback, long min, long max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a whole number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new UsageException("--" + name + " must be " + (max == Long.MAX_VALUE ? "at least " + min
                    : "between " + min + " and " + max) + ", got " + n);
        }
        return n;
    }

    /** --threads: threads per model call, all cores by default. */
    int threads() {
        return intValue("threads", Runtime.getRuntime().availableProcessors(), 1, Workers.MAX_THREADS);
    }

    /** --max-pixels: the largest image accepted, checked from its header before decoding. */
    long maxPixels() {
        return longValue("max-pixels", ImageDecoder.DEFAULT_MAX_PIXELS, 1, Long.MAX_VALUE);
    }

    /** Every value given for an option that may be repeated, in order; empty if none. */
    List<String> all(String name) {
        return repeated.getOrDefault(name, List.of());
    }

    /** A comma-separated list of whole numbers in [min, max], or the fallback. */
    int[] intList(String name, int[] fallback, int min, int max) {
        if (!has(name)) {
            return fallback;
        }
        String[] parts = values.get(name).split(",", -1);
        int[] list = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                list[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " needs whole numbers separated by commas, got '"
                        + values.get(name) + "'");
            }
            if (list[i] < min || list[i] > max) {
                throw new UsageException("--" + name + " values must be between " + min + " and " + max + ", got "
                        + list[i]);
            }
        }
        return list;
    }

    List<String> positional() {
        return positional;
    }
}
