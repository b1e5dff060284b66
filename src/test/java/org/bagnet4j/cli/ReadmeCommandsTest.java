package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's bagnet4j command lines: known commands and options, and the demo-then-explain walk as written. */
class ReadmeCommandsTest {
    /** A command line in a code block (to the end of its line, continuation lines indented) or inline code. */
    private static final Pattern COMMAND = Pattern.compile("bin/bagnet4j ([a-z]+)((?:[^`\\n]|\\n {3,}(?!bin/))*)");
    private static final Pattern OPTION = Pattern.compile("--([a-z][a-z-]*)");

    @TempDir
    Path dir;

    @Test
    void everyCommandLineUsesOptionsItsCommandHas() throws IOException {
        Matcher m = COMMAND.matcher(Files.readString(Path.of("README.md")));
        int lines = 0;
        while (m.find()) {
            String command = m.group(1);
            if (command.equals("help")) {
                continue;
            }
            assertThat(HelpTest.OPTIONS).as("README names command '%s'", command).containsKey(command);
            Matcher option = OPTION.matcher(m.group(2));
            while (option.find()) {
                assertThat(HelpTest.OPTIONS.get(command)).as("README: %s takes --%s", command, option.group(1))
                        .contains(option.group(1));
            }
            lines++;
        }
        assertThat(lines).isGreaterThanOrEqualTo(10);
    }

    /** As a newcomer reads it: demo, then the explain example, whose image demo has written. */
    @Test
    void theExplainExampleRunsOnWhatDemoWrote() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher example = Pattern.compile("For example, `bin/bagnet4j (explain [^`]+)`").matcher(readme);
        assertThat(example.find()).isTrue();
        ForkedCli.run(dir, "demo");
        String out = ForkedCli.run(dir, example.group(1).split(" "));
        assertThat(out).contains("wrote bagnet4j-output/9-ankle-boot-explained/heatmap-full.png");
    }
}
