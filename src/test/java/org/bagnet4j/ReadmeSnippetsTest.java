package org.bagnet4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ```java block of the README compiles against bagnet4j as written: its statements inside a method, its
 * imports (those it names, plus the JDK's and bagnet4j's public packages) above the class. Compiled by this JDK's
 * javac in a process of its own.
 */
class ReadmeSnippetsTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final String IMPORTS = """
            import java.awt.image.BufferedImage;
            import java.io.File;
            import java.nio.file.Path;
            import java.util.ArrayList;
            import java.util.List;
            import javax.imageio.ImageIO;
            import org.bagnet4j.*;
            import org.bagnet4j.compare.*;
            import org.bagnet4j.explain.*;
            import org.bagnet4j.image.*;
            import org.bagnet4j.serve.*;
            import org.bagnet4j.tensor.*;
            """;

    @TempDir
    Path out;

    @Test
    void javaBlocksCompile() throws IOException, InterruptedException {
        Matcher m = JAVA_BLOCK.matcher(Files.readString(Path.of("README.md")));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "javac")
                .toString(), "--add-modules", "jdk.incubator.vector", "-proc:none", "-classpath",
                System.getProperty("java.class.path"), "-d", out.resolve("classes").toString()));
        int blocks = 0;
        while (m.find()) {
            StringBuilder imports = new StringBuilder(IMPORTS);
            StringBuilder body = new StringBuilder();
            for (String line : m.group(1).lines().toList()) {
                (line.startsWith("import ") ? imports : body).append(line).append('\n');
            }
            String name = "Snippet" + blocks++;
            Path source = out.resolve(name + ".java");
            Files.writeString(source, imports + "class " + name + " {\n    static void run() throws Exception {\n"
                    + body + "    }\n}\n");
            command.add(source.toString());
        }
        assertThat(blocks).as("java blocks in README.md").isGreaterThanOrEqualTo(2);
        Process javac = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(javac.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(javac.exitValue()).as(output).isZero();
    }
}
