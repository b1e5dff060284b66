package org.bagnet4j.kernels;

import org.bagnet4j.BagNetException;

/** Checks, before any kernel class loads, that the JVM was started with the Vector API module. */
public final class VectorSupport {
    public static final String MODULE = "jdk.incubator.vector";

    private VectorSupport() {
    }

    public static boolean available() {
        return ModuleLayer.boot().findModule(MODULE).isPresent()
                || VectorSupport.class.getModule().getLayer() != null
                        && VectorSupport.class.getModule().getLayer().findModule(MODULE).isPresent();
    }

    public static void require() {
        if (!available()) {
            throw new BagNetException("bagnet4j needs the Vector API: start java (JDK 25 or later) with "
                    + "--add-modules " + MODULE);
        }
    }
}
