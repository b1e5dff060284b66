package org.bagnet4j.cli;

import java.io.File;
import java.lang.reflect.InvocationTargetException;

/**
 * The jar's entry point, compiled for Java 8 so that an older default {@code java} can run it and say in one line
 * which Java bagnet4j needs, instead of failing with UnsupportedClassVersionError. On Java 25 or later it hands
 * over to {@link Main}, which is loaded by name: its class file is too new for this one to link against.
 */
public final class JavaVersionGate {
    static final int REQUIRED = 25;

    private JavaVersionGate() {
    }

    public static void main(String[] args) throws Throwable {
        String version = System.getProperty("java.specification.version", "");
        if (feature(version) < REQUIRED) {
            System.err.println("bagnet4j: needs Java " + REQUIRED + " or later, but " + System.getProperty("java.home")
                    + File.separator + "bin" + File.separator + "java is Java " + version + "; run the jar with a Java "
                    + REQUIRED + "'s bin/java (in the source tree, bin/bagnet4j finds one; bin/jdk25 prints where)");
            System.exit(2);
        }
        try {
            Class.forName("org.bagnet4j.cli.Main").getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The feature release: "1.8" is 8, "17" is 17. */
    static int feature(String specification) {
        String s = specification.startsWith("1.") ? specification.substring(2) : specification;
        try {
            return Integer.parseInt(s.contains(".") ? s.substring(0, s.indexOf('.')) : s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
