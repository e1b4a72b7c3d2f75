package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The launchers and the class-data archive (scripts/cds-archive.sh): bin/clonefs and the launcher
 * {@code make install} writes map the archive next to the jar, and print exactly what they print
 * without it, with nothing on stderr, when it is there, missing, older than the jar or the JDK,
 * made for other bytes or not an archive at all. No mount needed.
 */
class LauncherCdsIT {
    private static final String FROM_ARCHIVE = "io.clonefs.cli.Main source: shared objects file";
    private static Workspace ws;
    private static Path none;
    private static int logs;

    @BeforeAll
    static void archive() throws IOException {
        ws = Workspace.create("launcher");
        none = ws.root().resolve("no-pool");
    }

    @AfterAll
    static void teardown() {
        if (ws != null) {
            ws.close();
        }
    }

    private static Path repo() {
        return Clonefs.launcher().getParent().getParent();
    }

    /** A copy of the jar in its own directory, with an archive made for it when {@code withArchive}. */
    private static Path jarCopy(String dir, boolean withArchive) throws IOException {
        Path jar = ws.dir(dir).resolve("clonefs.jar");
        Files.copy(Clonefs.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
        if (withArchive) {
            Proc.Result r = Proc.run(List.of(repo().resolve("scripts/cds-archive.sh").toString(), jar.toString()),
                    Map.of(), Duration.ofMinutes(3)).check();
            assertTrue(Files.size(jsa(jar)) > 1024 * 1024, "no archive: " + r.describe());
        }
        return jar;
    }

    private static Path jsa(Path jar) {
        return jar.resolveSibling("clonefs.jsa");
    }

    record Run(int exit, String out, String err, boolean fromArchive) {
    }

    /** {@code launcher ARGS} with this jar, its class loading logged to a file (not to its output). */
    private static Run run(List<String> launcher, Map<String, String> env, String... args) throws IOException {
        Path log = ws.root().resolve("classes-" + (++logs) + ".log");
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(args));
        Map<String, String> e = new HashMap<>(env);
        String opts = "-Xlog:class+load=info:file=" + log;
        e.put("JAVA_OPTS", opts);
        e.put("CLONEFS_JAVA_OPTS", opts);
        e.put("CLONEFS_POOL", none.toString());
        Proc.Result r = Proc.run(cmd, e, Duration.ofMinutes(2));
        boolean shared = Files.exists(log) && Files.readString(log).contains(FROM_ARCHIVE);
        return new Run(r.exit(), r.out(), r.err(), shared);
    }

    private static Run binClonefs(Path jar, String... args) throws IOException {
        return run(List.of(Clonefs.launcher().toString()), Map.of("CLONEFS_JAR", jar.toString()), args);
    }

    private static final String[][] COMMANDS = {{"--version"}, {"list"}, {"--json", "list"}, {"list", "--help"},
        {"lst"}, {"--pool", "", "list"}, {"pg", "branch", "src", "dev"}, {"--json", "pg", "--quiet", "branch", "src", "dev"},
        {"pg", "list"}};

    /** The outputs without an archive: what every other setup must print. */
    private static List<Run> expected() throws IOException {
        Path plain = jarCopy("plain", false);
        List<Run> runs = new ArrayList<>();
        for (String[] args : COMMANDS) {
            Run r = binClonefs(plain, args);
            assertFalse(r.fromArchive(), "no archive, yet classes from one: " + String.join(" ", args));
            runs.add(r);
        }
        assertEquals(0, runs.get(0).exit());
        assertTrue(runs.get(0).out().startsWith("clonefs "), runs.get(0).out());
        assertEquals(3, runs.get(1).exit(), runs.get(1).err());
        assertTrue(runs.get(1).err().startsWith("clonefs: no clonefs pool at "), runs.get(1).err());
        assertEquals(2, runs.get(4).exit());
        return runs;
    }

    private static void samePrinted(List<Run> expected, Path jar, boolean fromArchive, String setup) throws IOException {
        for (int i = 0; i < COMMANDS.length; i++) {
            Run r = binClonefs(jar, COMMANDS[i]);
            Run want = expected.get(i);
            String what = setup + ": clonefs " + String.join(" ", COMMANDS[i]);
            assertEquals(new Run(want.exit(), want.out(), want.err(), fromArchive), r, what);
            assertFalse(r.err().contains("[warning]") || r.err().contains("[cds") || r.out().contains("[warning]")
                    || r.out().contains("[cds"), what);
        }
    }

    @Test
    void theLauncherMapsTheArchiveAndPrintsWhatItPrintsWithout() throws IOException {
        samePrinted(expected(), jarCopy("archived", true), true, "archive");
    }

    @Test
    void aMissingStaleOrBrokenArchiveIsIgnoredSilently() throws IOException {
        List<Run> expected = expected();

        // older than the jar (a rebuilt jar): the launcher does not pass it
        Path rebuilt = jarCopy("rebuilt", true);
        Files.setLastModifiedTime(rebuilt, FileTime.fromMillis(Files.getLastModifiedTime(jsa(rebuilt)).toMillis() + 10_000));
        samePrinted(expected, rebuilt, false, "archive older than the jar");

        // newer than the jar but made for other bytes (the jar's time differs from the one recorded): the JVM refuses it
        Path other = jarCopy("other", true);
        Files.setLastModifiedTime(other, FileTime.fromMillis(Files.getLastModifiedTime(jsa(other)).toMillis() - 3_600_000));
        samePrinted(expected, other, false, "archive of another jar");

        // not an archive
        Path broken = jarCopy("broken", false);
        Files.writeString(jsa(broken), "not an archive\n");
        Files.setLastModifiedTime(jsa(broken), FileTime.fromMillis(Files.getLastModifiedTime(broken).toMillis() + 10_000));
        samePrinted(expected, broken, false, "broken archive");
    }

    /**
     * list, snapshot, clone, destroy and pg branch map the small archive of the fast path
     * (clonefs-quick.jsa), every other command (pg list too) the big one; a broken small archive is ignored as silently as a broken big one.
     */
    @Test
    void theFastPathCommandsMapTheQuickArchive() throws IOException {
        List<Run> expected = expected();
        Path jar = jarCopy("quick", true);
        Path quick = jar.resolveSibling("clonefs-quick.jsa");
        assertTrue(Files.size(quick) > 1024 * 1024 && Files.size(quick) < Files.size(jsa(jar)), "no small archive");
        Files.writeString(quick, "not an archive\n");
        Files.setLastModifiedTime(quick, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 10_000));
        for (int i = 0; i < COMMANDS.length; i++) {
            Run want = expected.get(i);
            List<String> words = List.of(COMMANDS[i]);
            boolean listing = words.contains("list") && !words.contains("pg") || words.contains("branch");
            // list (also list --help) and pg branch map the broken small archive, so no archive at all; --version, lst
            // and pg list the big one
            assertEquals(new Run(want.exit(), want.out(), want.err(), !listing), binClonefs(jar, COMMANDS[i]),
                    "broken small archive: clonefs " + String.join(" ", COMMANDS[i]));
        }
        Files.delete(quick); // without one, list maps the big archive
        assertEquals(new Run(expected.get(1).exit(), expected.get(1).out(), expected.get(1).err(), true), binClonefs(jar, "list"));
    }

    /** An archive fits one JDK build: one older than the JDK's installation (its lib/modules) is not passed. */
    @Test
    void anArchiveOlderThanTheJdkIsNotUsed() throws IOException {
        List<Run> expected = expected();
        Path jar = jarCopy("jdk-check", true);
        // a JDK "installed" now: bin/java runs the java the archive was made with, lib/modules is new
        Path jdk = ws.dir("jdk");
        Files.createDirectories(jdk.resolve("bin"));
        Files.createDirectories(jdk.resolve("lib"));
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\nexec java \"$@\"\n");
        java.toFile().setExecutable(true);
        Files.writeString(jdk.resolve("lib/modules"), "");
        long now = System.currentTimeMillis();
        Map<String, String> env = Map.of("CLONEFS_JAR", jar.toString(), "JAVA_HOME", jdk.toString());
        List<String> launcher = List.of(Clonefs.launcher().toString());

        Files.setLastModifiedTime(jsa(jar), FileTime.fromMillis(now + 3_600_000));
        assertEquals(new Run(0, expected.get(0).out(), "", true), run(launcher, env, "--version"), "archive newer than the JDK");

        Files.setLastModifiedTime(jar, FileTime.fromMillis(now - 7_200_000));
        Files.setLastModifiedTime(jsa(jar), FileTime.fromMillis(now - 3_600_000));
        for (int i = 0; i < COMMANDS.length; i++) {
            Run want = expected.get(i);
            assertEquals(new Run(want.exit(), want.out(), want.err(), false), run(launcher, env, COMMANDS[i]),
                    "archive older than the JDK: clonefs " + String.join(" ", COMMANDS[i]));
        }
    }

    @Test
    void makeInstallMakesAndUsesTheArchiveOfTheInstalledJar() throws IOException {
        Path prefix = ws.dir("prefix");
        Proc.run(List.of(repo().resolve("scripts/install.sh").toString(), prefix.toString(), Clonefs.jar().toString()),
                Map.of(), Duration.ofMinutes(3)).check();
        assertTrue(Files.isRegularFile(prefix.resolve("lib/clonefs/clonefs.jsa")), "no archive installed");
        List<String> installed = List.of(prefix.resolve("bin/clonefs").toString());
        Run version = run(installed, Map.of(), "--version");
        assertEquals(new Run(0, expectedVersion(), "", true), version);
        Run list = run(installed, Map.of(), "list");
        assertEquals(3, list.exit(), list.err());
        assertTrue(list.fromArchive());
        Files.delete(prefix.resolve("lib/clonefs/clonefs.jsa"));
        assertEquals(new Run(0, expectedVersion(), "", false), run(installed, Map.of(), "--version"));
        Proc.run(List.of(repo().resolve("scripts/install.sh").toString(), "--uninstall", prefix.toString()),
                Map.of(), Duration.ofMinutes(1)).check();
        assertFalse(Files.exists(prefix.resolve("lib/clonefs")), "uninstall left lib/clonefs");
    }

    private static String expectedVersion() throws IOException {
        return binClonefs(jarCopy("version", false), "--version").out();
    }
}
