package org.bagnet4j.cli;

import org.bagnet4j.BagNet;
import org.bagnet4j.BagNetException;

/** Loads the embedded model and prints the outcome: LauncherTest runs it in a JVM without the Vector API module. */
public final class LoadEmbeddedModel {
    private LoadEmbeddedModel() {
    }

    public static void main(String[] args) {
        try {
            BagNet.embedded();
            System.out.println("loaded");
        } catch (BagNetException e) {
            System.out.println("BagNetException: " + e.getMessage());
        }
    }
}
