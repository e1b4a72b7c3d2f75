package io.clonefs.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * How {@code --help} reads: descriptions are paragraphs wrapped at the help's width (at spaces
 * only), the list of subcommands shows each one's first clause, and examples are never broken
 * at the margin. Installed on the whole command tree by {@link Main}.
 *
 * <p>A command's {@code description} array holds the lines of its source, not of the screen:
 * picocli would print each element as a line of its own and wrap the ones longer than the
 * terminal, leaving a word or two on a line in mid-sentence. Here consecutive elements are one
 * paragraph, wrapped as a whole. A new paragraph starts after an empty element or one ending
 * in {@code %n}, and at an element that starts with blanks or with an option and a colon
 * ({@code --data: ...}). The command list ({@code Commands:}) shows a subcommand's first clause:
 * its description up to the first {@code .}, {@code :} or {@code ;} outside parentheses.
 *
 * <p>The descriptions of options and parameters are paragraphs the same way, wrapped in their
 * column.
 *
 * <p>The footer's lines (the examples) are kept as they are when they fit. An example (an
 * indented line) too wide is not wrapped at the margin, where a copy would no longer be the
 * command: its trailing comment ({@code   # ...}) goes on a line of its own above it, and the
 * command is continued on the next line with a backslash, at a space outside quotes (before a
 * pipe or {@code &&} when one is in the line's right half). A line of prose too wide is wrapped.
 */
final class HelpText {
    /** An element that starts a paragraph of its own: indented, or an option and a colon. */
    private static final Pattern OWN_PARAGRAPH = Pattern.compile("^(\\s+\\S|--?[\\w-]+:).*", Pattern.DOTALL);

    private HelpText() {
    }

    /** Renders the help of {@code cl} and its subcommands this way (call after adding them). */
    static void install(CommandLine cl) {
        Map<String, CommandLine.IHelpSectionRenderer> sections = new HashMap<>(cl.getHelpSectionMap());
        sections.put(UsageMessageSpec.SECTION_KEY_DESCRIPTION, HelpText::description);
        sections.put(UsageMessageSpec.SECTION_KEY_COMMAND_LIST, HelpText::commandList);
        sections.put(UsageMessageSpec.SECTION_KEY_FOOTER, HelpText::footer);
        sections.put(UsageMessageSpec.SECTION_KEY_OPTION_LIST, HelpText::optionList);
        sections.put(UsageMessageSpec.SECTION_KEY_PARAMETER_LIST, HelpText::parameterList);
        cl.setHelpSectionMap(sections);
    }

    /** The description's source lines joined into paragraphs (format specifiers kept). */
    static List<String> paragraphs(String[] lines) {
        List<String> out = new ArrayList<>();
        StringBuilder p = new StringBuilder();
        for (String line : lines) {
            if (p.length() > 0 && OWN_PARAGRAPH.matcher(line).matches()) {
                out.add(p.toString());
                p.setLength(0);
            }
            if (line.isBlank()) {
                if (p.length() > 0) {
                    out.add(p.toString());
                    p.setLength(0);
                }
                out.add("");
                continue;
            }
            p.append(p.length() == 0 ? line : " " + line.strip());
            if (line.endsWith("%n")) {
                out.add(p.substring(0, p.length() - 2));
                p.setLength(0);
            }
        }
        if (p.length() > 0) {
            out.add(p.toString());
        }
        return out;
    }

    /** The first clause of a description: up to the first '.', ':' or ';' outside parentheses, ending in '.'. */
    static String summary(String[] lines) {
        List<String> ps = paragraphs(lines);
        String text = ps.isEmpty() ? "" : ps.get(0);
        int depth = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && (c == '.' || c == ':' || c == ';')
                    && (i + 1 == text.length() || text.charAt(i + 1) == ' ')) {
                return text.substring(0, i) + ".";
            }
        }
        return text;
    }

    private static String description(Help help) {
        UsageMessageSpec u = help.commandSpec().usageMessage();
        if (u.description().length == 0) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (String p : paragraphs(u.description())) {
            for (String line : String.format(p).split("\\r?\\n", -1)) {
                for (String l : words(line, u.width() - 1, u.width() - 1)) {
                    out.append(help.colorScheme().text(l)).append(System.lineSeparator());
                }
            }
        }
        return out.toString();
    }

    private static String optionList(Help help) {
        Help.Layout d = help.createDefaultLayout();
        Help.IOptionRenderer options = d.optionRenderer();
        int width = descriptionWidth(d);
        Help.Layout l = new Help.Layout(d.colorScheme(), d.textTable(),
                (option, labels, scheme) -> joined(options.render(option, labels, scheme), scheme, width),
                d.parameterRenderer());
        return help.optionList(l, help.createDefaultOptionSort(), help.parameterLabelRenderer());
    }

    private static String parameterList(Help help) {
        Help.Layout d = help.createDefaultLayout();
        Help.IParameterRenderer parameters = d.parameterRenderer();
        int width = descriptionWidth(d);
        Help.Layout l = new Help.Layout(d.colorScheme(), d.textTable(), d.optionRenderer(),
                (param, labels, scheme) -> joined(parameters.render(param, labels, scheme), scheme, width));
        return help.parameterList(l, help.parameterLabelRenderer());
    }

    /**
     * How many characters a line of the description column of a layout's table holds: its width,
     * less the blanks picocli leaves (so that its own wrapping and this one end lines alike).
     */
    private static int descriptionWidth(Help.Layout layout) {
        Column[] columns = layout.textTable().columns();
        return columns[columns.length - 1].width - 2;
    }

    /**
     * The rows picocli renders for an option or parameter (its names in the first row, a row per
     * description element) with the description (the last column) as paragraphs, wrapped here
     * at spaces only (picocli would also break after a dot: "e." / "g."), a row per line, the
     * wrapped lines indented by two as picocli indents them.
     */
    private static Help.Ansi.Text[][] joined(Help.Ansi.Text[][] rows, Help.ColorScheme scheme, int width) {
        int last = rows[0].length - 1;
        String[] lines = new String[rows.length];
        for (int i = 0; i < rows.length; i++) {
            lines[i] = rows[i][last] == null ? "" : rows[i][last].plainString();
        }
        List<Help.Ansi.Text[]> out = new ArrayList<>();
        for (String p : paragraphs(lines)) {
            List<String> ls = words(p, width, width - 2);
            for (int i = 0; i < ls.size(); i++) {
                Help.Ansi.Text[] row = rows[0].clone();
                if (!out.isEmpty()) {
                    for (int c = 0; c < last; c++) {
                        row[c] = scheme.text("");
                    }
                }
                row[last] = scheme.text(i == 0 ? ls.get(i) : "  " + ls.get(i));
                out.add(row);
            }
        }
        return out.toArray(Help.Ansi.Text[][]::new);
    }

    /**
     * {@code text} in lines broken at spaces: the first at most {@code first} characters, the
     * others {@code rest}; a word longer than a line stands alone. An empty text is one empty line.
     */
    static List<String> words(String text, int first, int rest) {
        List<String> out = new ArrayList<>();
        String indent = text.substring(0, text.length() - text.stripLeading().length());
        StringBuilder l = new StringBuilder(indent);
        int empty = indent.length(); // the length of l before its first word
        for (String word : text.strip().split(" +")) {
            if (word.isEmpty()) {
                continue;
            }
            if (l.length() > empty && l.length() + 1 + word.length() > (out.isEmpty() ? first : rest)) {
                out.add(l.toString());
                l.setLength(0);
                empty = 0;
            }
            l.append(l.length() > empty ? " " : "").append(word);
        }
        out.add(l.toString());
        return out;
    }

    private static String footer(Help help) {
        UsageMessageSpec u = help.commandSpec().usageMessage();
        StringBuilder out = new StringBuilder();
        for (String element : u.footer()) {
            for (String line : String.format(element).split("\\r?\\n", -1)) {
                for (String l : fit(line, u.width())) {
                    out.append(help.colorScheme().text(l)).append(System.lineSeparator());
                }
            }
        }
        return out.toString();
    }

    /** A footer line as lines of at most {@code width} columns (see the class comment). */
    static List<String> fit(String line, int width) {
        if (line.length() <= width) {
            return List.of(line);
        }
        int indent = line.length() - line.stripLeading().length();
        List<String> out = new ArrayList<>();
        if (indent == 0) {
            return words(line, width - 1, width - 1);
        }
        String pad = line.substring(0, indent);
        String command = line;
        int comment = line.indexOf("  #", indent);
        if (comment > indent && outsideQuotes(line, comment)) {
            String prefix = pad + "# ";
            for (String l : words(line.substring(comment).strip().substring(1).strip(), width - prefix.length(),
                    width - prefix.length())) {
                out.add(prefix + l);
            }
            command = line.substring(0, comment).stripTrailing();
        }
        String rest = command;
        String more = pad + "    ";
        while (rest.length() > width) {
            // the last space that fits, outside quotes; the last one before a pipe or && if in the right half
            int cut = -1;
            int beforeOperator = -1;
            for (int i = Math.min(width - 2, rest.length() - 1); i > more.length(); i--) {
                if (rest.charAt(i) == ' ' && rest.charAt(i - 1) != ' ' && outsideQuotes(rest, i)) {
                    cut = cut < 0 ? i : cut;
                    if (beforeOperator < 0 && i > width / 2 && (rest.startsWith(" |", i) || rest.startsWith(" &&", i))) {
                        beforeOperator = i;
                    }
                }
            }
            cut = beforeOperator > 0 ? beforeOperator : cut;
            if (cut < 0) {
                break; // one word longer than the line: left whole
            }
            out.add(rest.substring(0, cut) + " \\");
            rest = more + rest.substring(cut + 1).stripLeading();
        }
        out.add(rest);
        return out;
    }

    /** Whether position {@code at} of a shell line is outside single and double quotes. */
    private static boolean outsideQuotes(String line, int at) {
        char quote = 0;
        for (int i = 0; i < at; i++) {
            char c = line.charAt(i);
            if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            }
        }
        return quote == 0;
    }

    private static String commandList(Help help) {
        Map<Help, Boolean> seen = new IdentityHashMap<>();
        List<Help> subs = new ArrayList<>();
        int longest = 0;
        for (Help h : help.subcommands().values()) {
            if (!h.commandSpec().usageMessage().hidden() && seen.put(h, Boolean.TRUE) == null) {
                subs.add(h);
                longest = Math.max(longest, h.commandNamesText(", ").plainString().length());
            }
        }
        // two blanks, the names, two blanks, the summary; its wrapped lines two further in
        int column = longest + 4;
        int width = help.commandSpec().usageMessage().width() - 1 - column;
        StringBuilder out = new StringBuilder();
        for (Help h : subs) {
            UsageMessageSpec u = h.commandSpec().usageMessage();
            String[] text = u.header().length > 0 ? u.header() : u.description();
            Help.Ansi.Text names = h.commandNamesText(", ");
            List<String> lines = words(String.format(summary(text)), width, width - 2);
            out.append(help.colorScheme().text("  ").concat(names)
                    .concat(" ".repeat(column - 2 - names.plainString().length()) + lines.get(0)));
            for (String l : lines.subList(1, lines.size())) {
                out.append(System.lineSeparator()).append(" ".repeat(column + 2)).append(l);
            }
            out.append(System.lineSeparator());
        }
        return out.toString();
    }
}
