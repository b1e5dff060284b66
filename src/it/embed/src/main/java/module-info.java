module embed {
    requires org.bagnet4j;
}
