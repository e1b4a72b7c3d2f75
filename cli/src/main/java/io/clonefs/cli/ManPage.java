package io.clonefs.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The manual page clonefs(1), in troff (man macros), written from the picocli model of the whole
 * command tree ({@link Main#commandLine()}): every command, its synopsis, description, parameters,
 * options and examples, so the page says what {@code --help} says. The Debian package ships it
 * (scripts/build-deb.sh). Written here rather than with picocli-codegen's ManPageGenerator, which
 * writes AsciiDoc and needs asciidoctor (a Ruby toolchain) to become a man page.
 *
 * <p>Usage: {@code java -cp clonefs.jar io.clonefs.cli.ManPage VERSION DATE > clonefs.1}
 * (DATE as YYYY-MM-DD, e.g. the commit's, so that the page is the same for the same sources).
 */
final class ManPage {
    private ManPage() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: ManPage VERSION DATE");
            System.exit(2);
        }
        PrintWriter out = new PrintWriter(System.out, false, StandardCharsets.UTF_8);
        out.print(render(args[0], args[1]));
        out.flush();
    }

    /** The page of the whole tree, for this version and date. */
    static String render(String version, String date) {
        CommandSpec root = Main.commandLine().getCommandSpec();
        StringBuilder b = new StringBuilder();
        b.append(".\\\" clonefs(1), generated from the picocli model by io.clonefs.cli.ManPage; do not edit\n");
        b.append(".TH CLONEFS 1 ").append(quoted(date)).append(' ').append(quoted("clonefs " + version))
                .append(' ').append(quoted("clonefs manual")).append('\n');
        b.append(".SH NAME\n");
        String first = root.usageMessage().description().length > 0 ? root.usageMessage().description()[0] : "clonefs";
        b.append("clonefs \\- ").append(text(lowerFirst(first.replaceAll("\\.$", "")))).append('\n');
        b.append(".SH SYNOPSIS\n");
        b.append(".B clonefs\n");
        b.append("[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR]\n");
        b.append(".SH DESCRIPTION\n");
        paragraphs(b, root.usageMessage().description());
        b.append(".PP\nEvery command accepts \\fB\\-h\\fR, \\fB\\-\\-help\\fR (its usage) and \\fB\\-V\\fR, "
                + "\\fB\\-\\-version\\fR; the options below apply to every command.\n");
        b.append(".SH OPTIONS\n");
        options(b, root, false);
        b.append(".SH COMMANDS\n");
        for (CommandLine sub : root.subcommands().values()) {
            command(b, sub.getCommandSpec());
        }
        b.append(".SH ENVIRONMENT\n");
        item(b, "CLONEFS_POOL", "The pool directory when there is no \\fB\\-\\-pool\\fR (default /var/lib/clonefs).");
        item(b, "CLONEFS_PG_PORTS", "Ports of the PostgreSQL servers the daemon starts, FIRST\\-LAST (default 54400\\-55399).");
        item(b, "CLONEFS_PG_BIN", "Where PostgreSQL is installed (default /usr/lib/postgresql/15/bin).");
        item(b, "JAVA_HOME, CLONEFS_JAVA_OPTS", "The Java the launcher runs, and extra options for it.");
        b.append(".SH FILES\n");
        item(b, "/etc/clonefs/\\fINAME\\fR.conf", "The configuration of the service \\fBclonefs@\\fR\\fINAME\\fR: "
                + "pool, mount point, control port, PostgreSQL ports (/etc/clonefs/default.conf: the pool /var/lib/clonefs "
                + "mounted on /mnt/clonefs).");
        item(b, "POOL/daemon.json, POOL/daemon.token", "Published by a running daemon: its pid, control port and mount "
                + "point, and the token of its control API (readable by its owner only).");
        b.append(".SH EXIT STATUS\n");
        b.append("0 ok, 1 error, 2 usage or invalid name, 3 not found, 4 exists, conflict or in use, 5 no space, "
                + "6 fsck found problems.\n");
        b.append(".SH SEE ALSO\n");
        b.append(".BR systemctl (1),\n.BR fusermount3 (1),\n.BR postgres (1)\n");
        return b.toString();
    }

    private static void command(StringBuilder b, CommandSpec spec) {
        if (spec.usageMessage().hidden()) {
            return;
        }
        b.append(".SS ").append(quoted(spec.qualifiedName())).append('\n');
        b.append(".B ").append(escape(spec.qualifiedName())).append('\n');
        StringBuilder syn = new StringBuilder();
        if (!visibleOptions(spec, true).isEmpty()) {
            syn.append("[\\fIOPTIONS\\fR]");
        }
        if (!spec.subcommands().isEmpty()) {
            syn.append(syn.length() > 0 ? " " : "").append("\\fICOMMAND\\fR");
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.hidden()) {
                continue;
            }
            String label = "\\fI" + escape(p.paramLabel()) + "\\fR" + (p.arity().max() > 1 ? "..." : "");
            syn.append(syn.length() > 0 ? " " : "").append(p.arity().min() == 0 ? "[" + label + "]" : label);
        }
        if (syn.length() > 0) {
            b.append(syn).append('\n');
        }
        b.append(".PP\n");
        paragraphs(b, spec.usageMessage().description());
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (!p.hidden()) {
                b.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n");
                paragraphs(b, described(p));
            }
        }
        options(b, spec, true);
        List<String> footer = new ArrayList<>();
        for (String f : spec.usageMessage().footer()) {
            for (String line : format(f).split("\n", -1)) {
                footer.add(line);
            }
        }
        if (footer.stream().anyMatch(l -> !l.isBlank())) {
            b.append(".PP\n");
            String heading = format(spec.usageMessage().footerHeading()).strip();
            if (!heading.isEmpty()) {
                b.append(text(heading)).append('\n');
            }
            paragraphs(b, footer.toArray(String[]::new));
        }
        for (CommandLine sub : spec.subcommands().values()) {
            command(b, sub.getCommandSpec());
        }
    }

    /** The options a command shows: not hidden, not -h/-V, and (for a subcommand) not the ones the root gives everyone. */
    private static List<OptionSpec> visibleOptions(CommandSpec spec, boolean own) {
        List<OptionSpec> list = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (o.hidden() || o.usageHelp() || o.versionHelp() || (own && o.inherited())) {
                continue;
            }
            list.add(o);
        }
        return list;
    }

    private static void options(StringBuilder b, CommandSpec spec, boolean own) {
        for (OptionSpec o : visibleOptions(spec, own)) {
            b.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String n : o.names()) {
                names.add("\\fB" + escape(n) + "\\fR");
            }
            b.append(String.join(", ", names));
            if (o.typeInfo().isBoolean() || o.arity().max() == 0) {
                if (o.negatable()) {
                    b.append(" (negatable: \\fB").append(escape(negated(o.longestName()))).append("\\fR)");
                }
            } else {
                b.append(" \\fI").append(escape(label(o))).append("\\fR");
            }
            b.append('\n');
            paragraphs(b, described(o));
        }
    }

    /** The description as --help shows it: ${DEFAULT-VALUE} and ${COMPLETION-CANDIDATES} filled in. */
    private static String[] described(ArgSpec a) {
        String[] d = a.description().clone();
        List<String> candidates = new ArrayList<>();
        if (a.completionCandidates() != null) {
            a.completionCandidates().forEach(candidates::add);
        }
        for (int i = 0; i < d.length; i++) {
            d[i] = d[i].replace("${DEFAULT-VALUE}", String.valueOf(a.defaultValueString()))
                    .replace("${COMPLETION-CANDIDATES}", String.join(", ", candidates));
        }
        return d;
    }

    private static String negated(String name) {
        return name.startsWith("--no-") ? "--" + name.substring(5) : "--no-" + name.substring(2);
    }

    private static String label(ArgSpec a) {
        String l = a.paramLabel();
        return l.startsWith("<") && l.endsWith(">") ? l.substring(1, l.length() - 1).toUpperCase(Locale.ROOT) : l;
    }

    private static void item(StringBuilder b, String tag, String body) {
        b.append(".TP\n\\fB").append(tag).append("\\fR\n").append(body).append('\n');
    }

    /**
     * Description lines as filled text: the lines {@code --help} breaks at its width join into one
     * paragraph; a blank line starts a new one, and an indented line (an example, a table row) is
     * kept as it is.
     */
    private static void paragraphs(StringBuilder b, String[] lines) {
        boolean literal = false;
        boolean pendingBreak = false;
        for (String raw : lines) {
            for (String line : format(raw).split("\n", -1)) {
                if (line.isBlank()) {
                    pendingBreak = true;
                    continue;
                }
                boolean indented = line.startsWith(" ");
                if (indented && !literal) {
                    b.append(".RS 2\n.nf\n");
                    literal = true;
                } else if (!indented && literal) {
                    b.append(".fi\n.RE\n");
                    literal = false;
                }
                if (pendingBreak && !literal) {
                    b.append(".sp\n");
                }
                pendingBreak = false;
                b.append(text(indented ? line.strip() : line)).append('\n');
            }
        }
        if (literal) {
            b.append(".fi\n.RE\n");
        }
    }

    /** picocli's format specifiers in the model's strings: %n a line break, %% a percent sign. */
    private static String format(String s) {
        return s == null ? "" : s.replace("%n", "\n").replace("%%", "%");
    }

    /** One line of text: escaped, and kept from being read as a request. */
    private static String text(String line) {
        String e = escape(line);
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }

    /** Backslashes and minus signs as troff wants them (a hyphen in an option name must stay a minus). */
    static String escape(String s) {
        return s.replace("\\", "\\e").replace("-", "\\-");
    }

    private static String quoted(String s) {
        return "\"" + escape(s).replace("\"", "\\(dq") + "\"";
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
