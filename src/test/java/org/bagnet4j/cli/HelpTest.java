package org.bagnet4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bagnet4j.cli.CommandsTest.cli;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Each command's own help: a usage line and every option the command accepts. */
class HelpTest {
    static final Map<String, Set<String>> OPTIONS = Map.ofEntries(Map.entry("demo", DemoCommand.OPTIONS),
            Map.entry("classify", ClassifyCommand.OPTIONS), Map.entry("explain", ExplainCommand.OPTIONS),
            Map.entry("patches", PatchesCommand.OPTIONS), Map.entry("scramble", ScrambleCommand.OPTIONS),
            Map.entry("compare", CompareCommand.OPTIONS), Map.entry("serve", ServeCommand.OPTIONS),
            Map.entry("bench", BenchCommand.OPTIONS),
            Map.entry("run", RunCommand.OPTIONS), Map.entry("info", InfoCommand.OPTIONS),
            Map.entry("convert", ConvertCommand.OPTIONS));

    @Test
    void everyCommandHelpsWithAllItsOptions() {
        assertThat(OPTIONS.keySet()).containsExactlyInAnyOrderElementsOf(Commands.COMMANDS);
        for (String command : Commands.COMMANDS) {
            for (String[] ask : new String[][] {{command, "--help"}, {"help", command}, {command, "-h"}}) {
                CommandsTest.Result r = cli(ask);
                assertThat(r.code()).as(String.join(" ", ask)).isZero();
                assertThat(r.out()).as(String.join(" ", ask)).startsWith("usage: bagnet4j " + command + " ");
                for (String option : OPTIONS.get(command)) {
                    assertThat(r.out()).as(command + " help lists --" + option).contains("--" + option);
                }
            }
        }
        // Each block stops where the next command's starts: no command's help has another's last line (before the
        // note on outputs that the commands writing files share).
        for (String command : Commands.COMMANDS) {
            List<String> help = cli(command, "--help").out().lines().toList();
            for (String other : Commands.COMMANDS) {
                if (!other.equals(command)) {
                    String last = cli(other, "--help").out().lines().takeWhile(l -> !l.startsWith("Outputs:"))
                            .reduce((a, b) -> b).orElseThrow();
                    assertThat(help).as(command + " help is its own").doesNotContain(last);
                }
            }
        }
    }

    @Test
    void errorsPointToTheCommandsHelp() {
        CommandsTest.Result r = cli("classify", "--top");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).endsWith("(see: bagnet4j classify --help)\n");
        r = cli("help", "frobnicate");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("unknown command 'frobnicate'");
        assertThat(cli("help").out()).contains("commands:");
    }
}
