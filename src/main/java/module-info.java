/** bagnet4j: a pure-Java inference engine for BagNets. Needs {@code --add-modules jdk.incubator.vector}. */
module org.bagnet4j {
    requires jdk.incubator.vector;
    requires transitive java.desktop;
    requires java.management;
    requires java.xml;
    requires jdk.httpserver;

    exports org.bagnet4j;
    exports org.bagnet4j.tensor;
    exports org.bagnet4j.image;
    exports org.bagnet4j.explain;
    exports org.bagnet4j.compare;
    exports org.bagnet4j.serve;
}
