package io.clonefs.cli;

import io.clonefs.api.ControlException;
import io.clonefs.base.ClonefsException;
import io.clonefs.cli.common.CliException;
import io.clonefs.daemon.DaemonLauncher;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
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
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        ClonefsCommand top = new ClonefsCommand();
        CommandLine cl = new CommandLine(top);
        cl.registerConverter(Path.class, Main::path);
        cl.setExecutionExceptionHandler(new Errors(top));
        cl.setExitCodeExceptionMapper(new Errors(top));
        cl.setParameterExceptionHandler(new Errors(top));
        return cl;
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

    /** The one place that turns an exception into a printed line and an exit code. */
    static final class Errors implements IExecutionExceptionHandler, IExitCodeExceptionMapper, IParameterExceptionHandler {
        private final ClonefsCommand top;

        Errors(ClonefsCommand top) {
            this.top = top;
        }

        @Override
        public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
            PrintWriter err = cl.getErr();
            err.println("clonefs: " + message(ex));
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
            err.println("clonefs: " + oneLine(ex.getMessage()) + " (see '" + name + " --help')");
            err.flush();
            return ExitCodes.USAGE;
        }

        static String message(Throwable ex) {
            if (ex instanceof ClonefsException || ex instanceof CliException
                    || ex instanceof ControlException
                    || ex instanceof DaemonLauncher.StartFailure) {
                return oneLine(ex.getMessage());
            }
            if (ex instanceof UncheckedIOException u && u.getMessage() != null) {
                return oneLine(u.getMessage());
            }
            Throwable root = ex;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (root instanceof ClonefsException) {
                return oneLine(root.getMessage());
            }
            return "internal error: " + oneLine(String.valueOf(ex)) + " (run with -v for details)";
        }

        static String oneLine(String s) {
            if (s == null) {
                return "unknown error";
            }
            String t = s.strip();
            int nl = t.indexOf('\n');
            return nl < 0 ? t : t.substring(0, nl).strip();
        }
    }
}
