package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's {@code --help}, rendered at 80 columns (and at 120, as a wider terminal gets
 * it), fits them and has neither a ragged break nor a broken example.
 *
 * <p>A <b>ragged break</b> is a line break inside a sentence that the width did not force: the
 * line does not end a sentence or a heading (its last character is none of {@code . : ; ! ?})
 * and is no example command ({@code clonefs ...}) nor the synopsis ({@code Usage: ...}); the
 * next line goes on with the same sentence (it starts with a lower-case letter, in the line's
 * column or up to two to the left, where picocli starts the next element of a description after
 * indenting the wrapped part of one); and the next line's first word would have fit on the line
 * (picocli fills at most 79 of 80 columns). It is what a description array element longer than
 * its column gives, leaving a word or two alone ("a running, writable copy of a" / "live" /
 * "database in about a second"), and what one cut short by hand gives ("run as the" /
 * "postgres").
 *
 * <p>A <b>broken example</b> is an example line (indented, after {@code Examples:}) that the
 * width wrapped: the next line starts in column 0 with a lower-case letter, {@code -} or
 * {@code #}, so the tail of a command or of its comment ("--credentials-file keys", "start
 * archiving") stands at the margin, where a copy and paste no longer gives the command.
 */
class HelpTextTest {
    static final int WIDTH = 80;

    private static List<CommandLine> all(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!out.contains(sub)) {
                out.addAll(all(sub));
            }
        }
        return out;
    }

    /** The help of {@code c} as an 80-column terminal shows it. */
    static String render(CommandLine c, int width) {
        c.setUsageHelpAutoWidth(false);
        c.setUsageHelpWidth(width);
        return c.getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    /** The problems of one rendered help text: lines over the width and ragged breaks (see the class comment). */
    static List<String> problems(String help) {
        return problems(help, WIDTH);
    }

    static List<String> problems(String help, int width) {
        List<String> out = new ArrayList<>();
        String[] lines = help.split("\n", -1);
        boolean examples = false;
        for (int i = 0; i < lines.length; i++) {
            examples |= lines[i].equals("Examples:"); // from here on, examples and notes: not wrapped text
            String line = lines[i];
            if (line.length() > width) {
                out.add("longer than " + width + " columns (" + line.length() + "): " + line.strip());
            }
            if (!examples && i + 1 < lines.length && ragged(line, lines[i + 1], width)) {
                out.add("ragged break: '" + line.strip() + "' then '" + lines[i + 1].strip() + "'");
            }
            if (examples && i + 1 < lines.length && brokenExample(line, lines[i + 1])) {
                out.add("broken example: '" + line.strip() + "' then '" + lines[i + 1] + "'");
            }
        }
        return out;
    }

    /** Whether the break after {@code line} is ragged (see the class comment). */
    static boolean ragged(String line, String next) {
        return ragged(line, next, WIDTH);
    }

    static boolean ragged(String line, String next, int width) {
        String text = line.strip();
        String nextText = next.strip();
        if (text.isEmpty() || nextText.isEmpty() || text.startsWith("clonefs ") || text.startsWith("Usage: ")) {
            return false;
        }
        if (".:;!?".indexOf(text.charAt(text.length() - 1)) >= 0 || !Character.isLowerCase(nextText.charAt(0))) {
            return false;
        }
        int col = indent(line);
        int nextCol = indent(next);
        return nextCol <= col && nextCol >= col - 2
                && line.stripTrailing().length() + 1 + nextText.split("\\s+")[0].length() < width;
    }

    /** Whether {@code next} is the tail of the example {@code line}, wrapped to the margin. */
    static boolean brokenExample(String line, String next) {
        return line.startsWith("  ") && !line.isBlank() && !next.isEmpty()
                && (Character.isLowerCase(next.charAt(0)) || next.charAt(0) == '-' || next.charAt(0) == '#');
    }

    private static int indent(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) == ' ') {
            i++;
        }
        return i;
    }

    @Test
    void theDefinitionCatchesAWrappedArrayElementAndNothingElse() {
        // what pg --help printed: an 86-column element wrapped, leaving "live" alone
        assertEquals(1, problems("PostgreSQL servers on volumes and their branches: a running, writable copy of a\n"
                + "live\ndatabase in about a second.\n").size());
        // an option's description column; an element of it after the wrapped part of the one before
        assertTrue(ragged("                             snapshot", "                             before it is reset"));
        assertTrue(ragged("                               MiB requests; write-back errors",
                "                             come from fsync and close"));
        // cut short by hand: the next word would have fit
        assertTrue(ragged("servers run as the", "postgres OS user on 127.0.0.1"));
        // a full line: the next word would not have fit (picocli fills 79 columns)
        assertFalse(ragged("x".repeat(70) + " and the", "database"));
        // ends of sentences, headings, a new sentence, an example, another column: not ragged
        assertTrue(problems("Destroys it.\nNew sentence.\n").isEmpty());
        assertTrue(problems("Examples:\n  clonefs pg list --json\n").isEmpty());
        assertTrue(problems("of a database\nRuns as root.\n").isEmpty());
        assertTrue(problems("  --json   Print results as JSON\n             and more\n").isEmpty());
        assertEquals(1, problems("x".repeat(81) + "\n").size());
        // an example wrapped at the margin; a continued one, and prose after an example, are not
        assertEquals(1, problems("Examples:\n  clonefs remote add ceph --bucket clonefs\n--credentials-file keys\n").size());
        assertEquals(1, problems("Examples:\n  clonefs pg history prod --restart   # and restart prod now to\nstart archiving\n").size());
        assertTrue(problems("Usage: clonefs pg init [-h]\n                       VOLUME\ninitdb in VOLUME/data\n").isEmpty());
        assertTrue(problems("  clonefs remote add ceph --bucket clonefs \\\n      --credentials-file keys\n").isEmpty());
        assertTrue(problems("Examples:\n  clonefs pg list\n\nExit codes: 0 ok; 7 a check failed; others as for any\ncommand.\n").isEmpty());
    }

    @Test
    void sourceLinesArePargraphsAndTheCommandListShowsTheFirstClause() {
        assertEquals(List.of("One sentence broken in the source. And another."),
                HelpText.paragraphs(new String[] {"One sentence broken", "in the source.", "And another."}));
        assertEquals(List.of("A.", "", "B", "--data: C D", "E"),
                HelpText.paragraphs(new String[] {"A.", "", "B", "--data: C", "D%n", "E"}));
        assertEquals(List.of("Intro:", "  an indented line"), HelpText.paragraphs(new String[] {"Intro:", "  an indented line"}));
        assertEquals("Every managed server.", HelpText.summary(new String[] {"Every managed server: sources", "and more."}));
        assertEquals("Start a server (or adopt a volume: one with data) and wait.",
                HelpText.summary(new String[] {"Start a server (or adopt a volume: one", "with data) and wait. More."}));
        assertEquals("No stop at all", HelpText.summary(new String[] {"No stop at all"}));
        assertEquals("Version 1.5 is out.", HelpText.summary(new String[] {"Version 1.5 is out. Yes."}));
    }

    @Test
    void wordsBreakAtSpacesOnly() {
        assertEquals(List.of("a cgroup", "  cpu.weight (e.g.", "  10m)"), HelpText.words("a cgroup cpu.weight (e.g. 10m)", 10, 18)
                .stream().map(l -> l.startsWith("a") ? l : "  " + l).toList());
        assertEquals(List.of("  two words"), HelpText.words("  two words", 20, 20));
        assertEquals(List.of("x-very-long-word", "b"), HelpText.words("x-very-long-word b", 5, 5));
        assertEquals(List.of(""), HelpText.words("", 5, 5));
    }

    @Test
    void anExampleTooWideIsContinuedWithABackslashAndItsCommentGoesAbove() {
        assertEquals(List.of("  short # fits"), HelpText.fit("  short # fits", 20));
        assertEquals(List.of("  # a comment", "  clonefs x y"), HelpText.fit("  clonefs x y   # a comment", 20));
        assertEquals(List.of("  clonefs branch \\", "      --memory 1G \\", "      --cpu 50"),
                HelpText.fit("  clonefs branch --memory 1G --cpu 50", 20));
        // never inside quotes; before a pipe when there is one
        assertEquals(List.of("  clonefs a \\", "      'x y z q' b"), HelpText.fit("  clonefs a 'x y z q' b", 20));
        assertEquals(List.of("  clonefs list --json \\", "      | jq .name"), HelpText.fit("  clonefs list --json | jq .name", 26));
        // prose is wrapped; a word longer than the line is left whole
        assertEquals(List.of("Exit codes: 0", "ok."), HelpText.fit("Exit codes: 0 ok.", 14));
        assertEquals(List.of("  x-very-long-word"), HelpText.fit("  x-very-long-word", 10));
    }

    @Test
    void everyCommandsHelpFits80ColumnsWithoutRaggedBreaks() {
        List<String> all = new ArrayList<>();
        List<CommandLine> commands = all(Main.commandLine());
        assertTrue(commands.size() >= 30, "commands: " + commands.size());
        for (CommandLine c : commands) {
            String name = c.getCommandSpec().qualifiedName();
            for (String p : problems(render(c, WIDTH))) {
                all.add(name + ": " + p);
            }
        }
        assertTrue(all.isEmpty(), all.size() + " problems:\n" + String.join("\n", all));
    }

    /** A wider terminal (usageHelpAutoWidth) gets the same: paragraphs reflow to its width. */
    @Test
    void aWiderTerminalGetsNoRaggedBreaksEither() {
        List<String> all = new ArrayList<>();
        for (CommandLine c : all(Main.commandLine())) {
            for (String p : problems(render(c, 120), 120)) {
                all.add(c.getCommandSpec().qualifiedName() + ": " + p);
            }
        }
        assertTrue(all.isEmpty(), all.size() + " problems at 120 columns:\n" + String.join("\n", all));
    }
}
