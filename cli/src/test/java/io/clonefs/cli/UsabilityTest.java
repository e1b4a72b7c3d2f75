package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.daemon.ControlServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Help with examples on every command, completion, the exit-code table and the bundled OpenAPI document. */
class UsabilityTest {
    private static List<CommandLine> all(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!out.contains(sub)) {
                out.addAll(all(sub));
            }
        }
        return out;
    }

    @Test
    void everyCommandHasExamplesInItsHelpAndTheJsonAndLogOptions() {
        List<CommandLine> commands = all(Main.commandLine());
        assertTrue(commands.size() >= 25, "commands: " + commands.size());
        for (CommandLine c : commands) {
            String name = c.getCommandSpec().qualifiedName();
            String help = c.getUsageMessage(CommandLine.Help.Ansi.OFF);
            assertTrue(help.contains("Examples:\n  clonefs"), name + " has no examples:\n" + help);
            if (!name.equals("clonefs pg")) {
                for (String opt : new String[] {"--json", "-v", "-q"}) {
                    assertNotNull(c.getCommandSpec().findOption(opt), name + " lacks " + opt);
                }
            }
        }
    }

    /** {@code clonefs COMMAND --help} works for every command (the error messages point at it). */
    @Test
    void helpOptionOnEveryCommandExitsZeroWithExamples() {
        for (CommandLine c : all(Main.commandLine())) {
            List<String> args = new ArrayList<>(List.of(c.getCommandSpec().qualifiedName().split(" ")));
            args.remove(0);
            args.add("--help");
            CommandLine fresh = Main.commandLine();
            StringWriter out = new StringWriter();
            fresh.setOut(new PrintWriter(out));
            fresh.setErr(new PrintWriter(new StringWriter()));
            assertEquals(0, fresh.execute(args.toArray(String[]::new)), String.join(" ", args));
            assertTrue(out.toString().contains("Examples:"), String.join(" ", args) + ":\n" + out);
        }
    }

    @Test
    void completionPrintsTheBashScriptOfEveryCommand() {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("completion"));
        String script = out.toString();
        assertTrue(script.startsWith("#!/usr/bin/env bash"), script.substring(0, 80));
        assertTrue(script.contains("complete -F _complete_clonefs"), "no complete -F");
        for (String cmd : new String[] {"snapshot", "clone", "destroy", "branch", "events", "completion"}) {
            assertTrue(script.contains(cmd), cmd);
        }
    }

    /** docs/cli.md lists exactly the codes of ExitCodes, with the same numbers. */
    @Test
    void theExitCodeTableMatchesExitCodes() throws Exception {
        Map<String, Integer> codes = new TreeMap<>();
        for (Field f : ExitCodes.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                codes.put(f.getName(), f.getInt(null));
            }
        }
        String doc = Files.readString(Path.of("../docs/cli.md"));
        Map<String, Integer> table = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^\\|\\s*(\\d+)\\s*\\|\\s*`(\\w+)`\\s*\\|").matcher(doc);
        while (m.find()) {
            table.put(m.group(2), Integer.parseInt(m.group(1)));
        }
        assertEquals(codes, table);
    }

    @Test
    void theServedOpenApiDocumentIsTheOneInDocs() throws Exception {
        assertArrayEquals(Files.readAllBytes(Path.of("../docs/api/openapi.json")), ControlServer.openapi(),
                "copy server/src/main/resources/io/clonefs/daemon/openapi.json to docs/api/openapi.json");
    }
}
