package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** clonefs(1) as {@link ManPage} writes it from the picocli model: every command and option, valid troff. */
class ManPageTest {
    private static final Set<String> MACROS = Set.of(".TH", ".SH", ".SS", ".TP", ".PP", ".B", ".BR", ".RS", ".RE", ".nf",
            ".fi", ".sp", ".\\\"");

    private static List<CommandLine> all(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) {
            out.addAll(all(sub));
        }
        return out;
    }

    @Test
    void everyCommandAndOptionIsOnThePage() {
        String page = ManPage.render("1.2.3", "2026-01-02");
        assertTrue(page.contains(".TH CLONEFS 1 \"2026\\-01\\-02\" \"clonefs 1.2.3\""), page.lines().limit(3).toList().toString());
        List<CommandLine> commands = all(Main.commandLine());
        assertTrue(commands.size() >= 25, "commands: " + commands.size());
        for (CommandLine c : commands.subList(1, commands.size())) {
            String name = c.getCommandSpec().qualifiedName();
            assertTrue(page.contains(".SS \"" + ManPage.escape(name) + "\"\n"), "no section of " + name);
            for (OptionSpec o : c.getCommandSpec().options()) {
                if (!o.hidden()) {
                    assertTrue(page.contains("\\fB" + ManPage.escape(o.longestName()) + "\\fR"), name + " " + o.longestName());
                }
            }
        }
    }

    @Test
    void everyLineIsTextOrAKnownRequest() {
        String page = ManPage.render("1.2.3", "2026-01-02");
        for (String line : page.split("\n")) {
            if (line.startsWith(".")) {
                assertTrue(MACROS.contains(line.split(" ", 2)[0]), "unknown request: " + line);
            }
            assertFalse(line.startsWith("'"), "a line read as a request: " + line);
            assertFalse(line.contains("%n") || line.contains("${"), "a picocli format or variable left in: " + line);
            assertFalse(line.matches(".*[^\\\\]\\\\[^efI&B(R\\-].*") && !line.startsWith(".\\\""), "a stray backslash: " + line);
        }
    }

    /** groff itself, with every warning on, has nothing to say (skipped without groff). */
    @Test
    void groffFormatsItWithoutWarnings() throws IOException, InterruptedException {
        assumeTrue(new File("/usr/bin/groff").canExecute(), "no groff on this host");
        Path page = Files.createTempFile("clonefs", ".1");
        try {
            Files.writeString(page, ManPage.render("1.2.3", "2026-01-02"));
            Process p = new ProcessBuilder("/usr/bin/groff", "-man", "-Tutf8", "-ww", "-z", page.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertEquals("", out);
        } finally {
            Files.deleteIfExists(page);
        }
    }
}
