package org.bagnet4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reading and writing the architecture entries of a model file's metadata, and checking their ranges. */
final class MetadataFields {
    private MetadataFields() {
    }

    /** The entries every standard CNN's metadata starts with: family, arch, in_channels. */
    static Map<String, String> start(String family, String name, int inChannels) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Architecture.FAMILY_KEY, family);
        m.put("bagnet4j.arch", name);
        m.put("bagnet4j.in_channels", Integer.toString(inChannels));
        return m;
    }

    /** Static, for the records' compact constructors, which run before their fields are set. */
    static void checkRange(String name, String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new BagNetException("config " + name + ": " + field + " = " + value + " is outside [" + min
                    + ", " + max + "]");
        }
    }

    static int intField(Map<String, String> metadata, String key) {
        String value = metadata.get(key);
        if (value == null) {
            throw new BagNetException("model metadata lacks " + key);
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new BagNetException("model metadata " + key + " = '" + value + "' is not an integer");
        }
    }

    static List<Integer> listField(Map<String, String> metadata, String key) {
        String value = metadata.get(key);
        if (value == null) {
            throw new BagNetException("model metadata lacks " + key);
        }
        List<Integer> list = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            try {
                list.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                throw new BagNetException("model metadata " + key + " = '" + value + "' is not a list of integers");
            }
        }
        return list;
    }

    static String join(List<Integer> values) {
        StringBuilder sb = new StringBuilder();
        for (int v : values) {
            sb.append(sb.isEmpty() ? "" : ",").append(v);
        }
        return sb.toString();
    }
}
