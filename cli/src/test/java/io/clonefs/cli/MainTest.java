package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Exit codes and one-line messages for errors that need no pool. */
class MainTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    private Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static void oneLine(Run r) {
        String e = r.err().strip();
        assertFalse(e.isEmpty(), "no message on stderr");
        assertFalse(e.contains("\n"), "more than one line: " + e);
        assertTrue(e.startsWith("clonefs: "), e);
        assertFalse(e.contains("Exception"), e);
    }

    @Test
    void invalidVolumeNamesAreUsageErrorsBeforeThePoolIsOpened() {
        for (String bad : new String[] {"a/b", "..", ".hidden", "-x", "x".repeat(64), "a b"}) {
            Run r = run("--pool", tmp.resolve("none").toString(), "create", bad);
            assertEquals(ExitCodes.USAGE, r.code(), bad + ": " + r.err());
            oneLine(r);
        }
    }

    @Test
    void missingPoolIsNotFound() {
        Run r = run("list", "--pool", tmp.resolve("none").toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code());
        oneLine(r);
        assertTrue(r.err().contains("no clonefs pool"), r.err());
    }

    @Test
    void emptyPoolOptionIsAUsageErrorNotTheWorkingDirectory() {
        for (String[] args : new String[][] {{"list", "--pool", ""}, {"--pool", " ", "list"},
            {"--pool", tmp.resolve("none").toString(), "list", "--pool", ""}, {"pg", "list", "--pool", ""}}) {
            Run r = run(args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
            oneLine(r);
            assertTrue(r.err().contains("--pool needs a pool directory"), r.err());
        }
    }

    @Test
    void pathsTheOsCannotNameAreUsageErrors() {
        for (String[] args : new String[][] {{"--pool", "a\u0000b", "list"}, {"fsck", "--pool", "\u0000", "-"},
            {"init", "/tmp/x\u0000y"}}) {
            Run r = run(args);
            assertEquals(ExitCodes.USAGE, r.code(), r.err());
            oneLine(r);
            assertTrue(r.err().contains("is not a usable path (nul character not allowed)"), r.err());
        }
    }

    @Test
    void malformedSnapshotAndSizeAndUnknownCommand() {
        Run r = run("snapshot", "novolume");
        assertEquals(ExitCodes.USAGE, r.code());
        oneLine(r);
        r = run("init", tmp.resolve("p").toString(), "--block-size", "8Q");
        assertEquals(ExitCodes.USAGE, r.code());
        oneLine(r);
        r = run("frobnicate");
        assertEquals(ExitCodes.USAGE, r.code());
        oneLine(r);
        r = run("create");
        assertEquals(ExitCodes.USAGE, r.code());
        oneLine(r);
    }

    @Test
    void umountOfSomethingNotMountedIsNotFound() {
        Run r = run("umount", tmp.toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code(), r.err());
        oneLine(r);
    }

    @Test
    void versionAndHelp() {
        Run r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("clonefs "), r.out());
        r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("snapshot"), r.out());
    }

    @Test
    void limitsThatMakeNoSenseAreUsageErrorsBeforeTheDaemonIsAsked() {
        String none = tmp.resolve("none").toString();
        String[][] cases = {
            {"pg", "branch", "src", "b1", "--memory", "1MiB", "--pool", none},
            {"pg", "branch", "src", "b1", "--memory", "lots", "--pool", none},
            {"pg", "branch", "src", "b1", "--cpu-weight", "10001", "--pool", none},
            {"pg", "branch", "src", "b1", "--setting", "port=1", "--pool", none},
            {"pg", "branch", "src", "b1", "--setting", "nonsense", "--pool", none},
            {"pg", "limit", "b1", "--cpu-weight", "-1", "--pool", none},
            {"pg", "limit", "b1", "--memory", "63MiB", "--pool", none}};
        for (String[] args : cases) {
            Run r = run(args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
            oneLine(r);
            assertFalse(r.err().contains("daemon"), "refused before asking a daemon: " + r.err());
        }
        Run small = run("pg", "branch", "src", "b1", "--memory", "32MiB", "--pool", none);
        assertEquals("clonefs: --memory 32 MiB is too small: a server needs at least 64 MiB", small.err().strip());
    }
}
