package io.clonefs.cli;

import io.clonefs.cli.pg.PgCommand;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IExitCodeExceptionMapper;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** Entry point of {@code clonefs}: builds the command line and turns failures into one line and an exit code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (for tests and the launcher). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /**
     * Runs the CLI with these writers (null: picocli's, on System.out and System.err).
     *
     * <p>A command line that names its command plainly ({@code clonefs [global options] list ...},
     * {@code clonefs pg branch ...}) runs on a model of that one command and its parents: building
     * the model of all thirty commands by reflection was a third of a short command's start. If the
     * line does not parse there, or asks for help or the version, it runs on the whole tree instead
     * (before anything ran), so that help, usage errors and their suggestions are those of the whole
     * tree. {@code clonefs --version} alone prints the version line as picocli would, without it;
     * {@code list}, {@code snapshot}, {@code clone}, {@code destroy} and {@code pg branch} against a
     * running daemon run without picocli and Jackson ({@link FastPath}) when their command line is plain.
     */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            PrintWriter w = out != null ? out : new PrintWriter(System.out, true);
            for (String line : new ClonefsCommand.Version().getVersion()) {
                w.println(line);
            }
            w.flush();
            return ExitCodes.OK;
        }
        int fast = FastPath.run(out, err, args);
        if (fast != FastPath.NOT_HANDLED) {
            return fast;
        }
        CommandLine quick = quickCommandLine(args);
        if (quick != null) {
            configure(quick, out, err);
            if (runsAsIs(quick, args)) {
                return quick.execute(args);
            }
        }
        CommandLine full = commandLine();
        configure(full, out, err);
        return full.execute(args);
    }

    private static void configure(CommandLine cl, PrintWriter out, PrintWriter err) {
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
    }

    /**
     * The whole command tree, with its help rendered by {@link HelpText} (help is only ever printed
     * from the whole tree: a command line that asks for it, or does not parse, runs here).
     */
    static CommandLine commandLine() {
        CommandLine cl = build(ClonefsCommand.SUBCOMMANDS, PgCommand.SUBCOMMANDS);
        HelpText.install(cl);
        return cl;
    }

    /**
     * The tree with the subcommands {@code subs} (and under {@code pg}, {@code pgSubs}), added in
     * that order before the converter and handlers (which picocli copies to the subcommands present).
     */
    private static CommandLine build(List<String> subs, List<String> pgSubs) {
        ClonefsCommand top = new ClonefsCommand();
        CommandLine cl = new CommandLine(top);
        for (String name : subs) {
            CommandLine c = new CommandLine(ClonefsCommand.subcommand(name));
            if (name.equals("pg")) {
                for (String p : pgSubs) {
                    c.addSubcommand(PgCommand.subcommand(p));
                }
            }
            cl.addSubcommand(c);
        }
        cl.registerConverter(Path.class, Main::path);
        cl.setExecutionExceptionHandler(new Errors(top));
        cl.setExitCodeExceptionMapper(new Errors(top));
        cl.setParameterExceptionHandler(new Errors(top));
        return cl;
    }

    /**
     * The tree of the one command {@code args} name, or null when they name none plainly: the
     * top-level options before it are only {@code --pool DIR}, {@code --pool=DIR}, {@code --json},
     * {@code -v}, {@code --verbose}, {@code -q}, {@code --quiet}; nothing is an {@code @file}; and
     * the command is not {@code completion} (which prints the whole tree).
     */
    static CommandLine quickCommandLine(String... args) {
        for (String a : args) {
            if (a.startsWith("@")) {
                return null;
            }
        }
        int i = skipGlobalOptions(args, 0);
        if (i >= args.length || !ClonefsCommand.SUBCOMMANDS.contains(args[i]) || args[i].equals("completion")) {
            return null;
        }
        String sub = args[i];
        if (!sub.equals("pg")) {
            return build(List.of(sub), List.of());
        }
        i = skipGlobalOptions(args, i + 1);
        if (i >= args.length || !PgCommand.SUBCOMMANDS.contains(args[i])) {
            return null;
        }
        return build(List.of(sub), List.of(args[i]));
    }

    private static int skipGlobalOptions(String[] args, int i) {
        while (i < args.length) {
            String a = args[i];
            if (a.equals("--pool")) {
                i += 2;
            } else if (a.startsWith("--pool=") || a.equals("--json") || a.equals("-v") || a.equals("--verbose")
                    || a.equals("-q") || a.equals("--quiet")) {
                i++;
            } else if (a.startsWith("-")) {
                return args.length; // any other option: not plain
            } else {
                return i;
            }
        }
        return i;
    }

    /** True when {@code args} parse on {@code cl} and ask for no help nor the version. */
    private static boolean runsAsIs(CommandLine cl, String[] args) {
        ParseResult pr;
        try {
            pr = cl.parseArgs(args);
        } catch (RuntimeException e) {
            return false; // the whole tree says what is wrong
        }
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
                return false;
            }
        }
        return true;
    }

    /** A path argument; one that the OS cannot name (a NUL byte) is a one-line usage error. */
    static Path path(String s) {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            String shown = s.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
            throw new CommandLine.TypeConversionException("'" + shown + "' is not a usable path ("
                    + e.getReason().toLowerCase(Locale.ROOT) + ")");
        }
    }

    /** Turns an exception into a printed line ({@link ErrorLines}, shared with {@link FastPath}) and an exit code. */
    static final class Errors implements IExecutionExceptionHandler, IExitCodeExceptionMapper, IParameterExceptionHandler {
        private final ClonefsCommand top;

        Errors(ClonefsCommand top) {
            this.top = top;
        }

        @Override
        public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
            PrintWriter err = cl.getErr();
            err.println("clonefs: " + ErrorLines.message(ex));
            if (top.verbose()) {
                ex.printStackTrace(err);
            }
            err.flush();
            return getExitCode(ex);
        }

        @Override
        public int getExitCode(Throwable ex) {
            return ExitCodes.of(ex);
        }

        @Override
        public int handleParseException(ParameterException ex, String[] args) {
            CommandLine cl = ex.getCommandLine();
            PrintWriter err = cl.getErr();
            String name = cl.getCommandSpec().qualifiedName();
            err.println("clonefs: " + ErrorLines.oneLine(ex.getMessage()) + " (see '" + name + " --help')");
            err.flush();
            return ExitCodes.USAGE;
        }
    }
}
