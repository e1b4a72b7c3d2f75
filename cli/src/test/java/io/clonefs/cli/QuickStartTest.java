package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.clonefs.cli.pg.PgCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A command line that names its command runs on a model of that command alone ({@link Main#run}),
 * and prints exactly what the whole tree prints: output, errors, exit code.
 */
class QuickStartTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    private static Run viaMain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    private static Run viaWholeTree(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theSubcommandTablesMatchTheCommandsNames() {
        CommandLine full = Main.commandLine();
        assertEquals(ClonefsCommand.SUBCOMMANDS, new ArrayList<>(full.getSubcommands().keySet()));
        assertEquals(PgCommand.SUBCOMMANDS, new ArrayList<>(full.getSubcommands().get("pg").getSubcommands().keySet()));
        for (String name : ClonefsCommand.SUBCOMMANDS) {
            assertEquals(name, new CommandLine(ClonefsCommand.subcommand(name)).getCommandName());
        }
        for (String name : PgCommand.SUBCOMMANDS) {
            assertEquals(name, new CommandLine(PgCommand.subcommand(name)).getCommandName());
        }
    }

    @Test
    void plainCommandLinesBuildOneCommand() {
        String none = tmp.resolve("none").toString();
        for (String[] args : new String[][] {{"list"}, {"--pool", none, "--json", "list"}, {"--pool=" + none, "-q", "snapshot", "v@s"},
            {"clone", "v@s", "c"}, {"destroy", "-r", "v"}, {"pg", "list"}, {"--json", "pg", "--pool", none, "branch", "a", "b"}}) {
            CommandLine cl = Main.quickCommandLine(args);
            assertNotNull(cl, String.join(" ", args));
            assertEquals(1, cl.getSubcommands().size(), String.join(" ", args));
        }
        for (String[] args : new String[][] {{}, {"--help"}, {"completion"}, {"frobnicate"}, {"-vq", "list"}, {"--", "list"},
            {"@args", "list"}, {"list", "@args"}, {"pg"}, {"pg", "frobnicate"}, {"--pool"}, {"--version", "list"}, {"--version"}}) {
            assertNull(Main.quickCommandLine(args), String.join(" ", args));
        }
    }

    @Test
    void everyOutputIsTheWholeTreesOutput() {
        String none = tmp.resolve("none").toString();
        List<String[]> cases = new ArrayList<>();
        CommandLine full = Main.commandLine();
        for (String name : ClonefsCommand.SUBCOMMANDS) {
            cases.add(new String[] {name, "--help"});
            cases.add(new String[] {name, "-h"});
            cases.add(new String[] {name, "--version"});
            cases.add(new String[] {name, "--no-such-option"});
            for (String sub : full.getSubcommands().get(name).getSubcommands().keySet()) {
                cases.add(new String[] {name, sub, "--help"});
                cases.add(new String[] {name, sub, "--no-such-option", "--pool", none});
            }
        }
        String[][] more = {{}, {"--help"}, {"-h"}, {"--version"}, {"-V"}, {"-V", "-h"}, {"frobnicate"}, {"lst"}, {"snapshots"},
            {"list", "extra", "--pool", none}, {"list", "--pool", none}, {"--pool", none, "--json", "list"},
            {"list", "--pool", ""}, {"--pool", " ", "list"}, {"--pool", "a\u0000b", "list"}, {"--pool"},
            {"snapshot", "novolume", "--pool", none}, {"snapshot", "v@s", "--pool", none}, {"snapshot", "--pool", none},
            {"create", "--pool", none}, {"create", "a/b", "--pool", none}, {"-q", "create", "x".repeat(64), "--pool", none},
            {"clone", "v@s", "--pool", none}, {"clone", "v@s", "c", "--pool", none}, {"clone", "a", "b", "c"},
            {"destroy", "--pool", none}, {"destroy", "v", "--pool", none}, {"destroy", "-r", "v@s", "--pool", none},
            {"--json", "destroy", "v", "--pool", none}, {"space", "--pool", none}, {"fsck", "--pool", none},
            {"pg"}, {"pg", "frobnicate"}, {"pg", "branch"}, {"pg", "list", "--pool", none}, {"--json", "pg", "list", "--pool", none},
            {"pg", "branch", "a", "b", "--pool", none}, {"pg", "branch", "a/b", "c", "--pool", none}, {"pg", "--help"},
            {"pg", "--version"}, {"pg", "-V", "list"}, {"remote"}, {"remote", "list", "--pool", none}, {"cache"},
            {"events", "--pool", none}, {"umount", none}, {"umount"}, {"mount"}, {"--json=true", "list"}, {"list", "--json=false", "--pool", none},
            {"--", "list"}, {"list", "--", "x"}, {"completion"}};
        cases.addAll(List.of(more));
        for (String[] args : cases) {
            Run quick = viaMain(args);
            Run whole = viaWholeTree(args);
            String what = "clonefs " + String.join(" ", args);
            assertEquals(whole, quick, what);
        }
    }
}
