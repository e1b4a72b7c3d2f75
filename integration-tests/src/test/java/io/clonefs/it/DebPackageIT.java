package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.base.Command;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.PgServer;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Debian package on this machine: {@code scripts/build-deb.sh} (what {@code make deb} runs)
 * builds it; {@code dpkg-deb --info/--contents} and lintian check it; {@code apt-get install ./...}
 * installs it; the installed unit {@code clonefs@NAME.service} passes {@code systemd-analyze verify}
 * and its ExecStartPre, ExecStart, ExecStartPost and ExecStop lines, read from the installed unit
 * with its Environment and EnvironmentFile ({@code /etc/clonefs/NAME.conf}) expanded as systemd
 * does, create and mount a pool, serve {@code clonefs pg init} and {@code pg branch} through
 * {@code /usr/bin/clonefs}, stop, and start again with the branch's server back (what a reboot
 * does: systemd need not be PID 1 here). Removing the package leaves the pool, its volumes and the
 * configurations; purge deletes its own conffile and says which pools and files it keeps. Whatever
 * fails, the test stops the daemon, unmounts, purges the package and deletes its configuration;
 * an installation of {@code make install} in /usr/local is left as it was.
 *
 * <p>Skipped (with the reason) when not root, without dpkg, or when a clonefs package is installed.
 */
class DebPackageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path UNIT = Path.of("/lib/systemd/system/clonefs@.service");
    private static final Path ETC = Path.of("/etc/clonefs");
    private static final Duration STEP = Duration.ofMinutes(3);

    private final String name = "debit" + ProcessHandle.current().pid();
    private final Path conf = ETC.resolve(name + ".conf");
    private Path pool;
    private Path mountpoint;
    private Process daemon;
    private boolean etcExisted;

    @Test
    void theDebianPackageInstallsMountsBranchesAndRemovesWithoutTouchingPools() throws Exception {
        assumeTrue(run("id", "-u").out().strip().equals("0"), "DebPackageIT installs a package: it needs root");
        assumeTrue(onPath("dpkg") && onPath("dpkg-deb"), "DebPackageIT needs dpkg and dpkg-deb (a Debian host)");
        assumeTrue(!installed(), "a clonefs package is installed on this host: DebPackageIT leaves it alone");
        assumeTrue(!Files.exists(ETC.resolve("default.conf")), "/etc/clonefs/default.conf exists: DebPackageIT leaves it alone");
        for (String tool : List.of("lintian", "systemd-analyze", "apt-get")) {
            assertTrue(onPath(tool), tool + " is missing: scripts/install-deps.sh installs it");
        }
        etcExisted = Files.isDirectory(ETC);
        Map<String, String> usrLocal = usrLocalState();
        Workspace ws = Workspace.create("deb");
        long t0 = System.nanoTime();
        try {
            pool = ws.root().resolve("pool");
            mountpoint = ws.root().resolve("mnt");
            Path deb = build(ws.dir("out"));
            time("build", t0);
            checkPackage(deb);
            lintian(deb);
            time("dpkg-deb and lintian", t0);

            Proc.Result in = Proc.run(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", deb.toString()),
                    Map.of("DEBIAN_FRONTEND", "noninteractive"), STEP).check();
            assertTrue(in.out().contains("systemctl enable --now clonefs@default"), "postinst says how to start: " + in.describe());
            assertTrue(Files.isExecutable(Path.of("/usr/bin/clonefs")), "launcher installed");
            assertTrue(Files.size(Path.of("/usr/lib/clonefs/clonefs.jsa")) > 1024 * 1024,
                    "postinst made the class-data archive for the installed JDK");
            assertTrue(run("/usr/bin/clonefs", "--version").check().out().startsWith("clonefs "));
            // (a container image may keep dpkg from installing man pages: path-exclude in /etc/dpkg/dpkg.cfg.d)
            if (Files.exists(Path.of("/usr/share/man/man1/clonefs.1.gz")) && onPath("man")) {
                assertTrue(run("man", "-w", "clonefs").check().out().contains("/usr/share/man/man1/clonefs.1.gz"));
            }
            assertTrue(run("bash", "-c", "source /usr/share/bash-completion/completions/clonefs && complete -p clonefs").check()
                    .out().contains("_complete_clonefs clonefs"), "bash completion registers clonefs");
            time("install", t0);

            // ExecStartPre creates a pool only where there is nothing, and not at all with CLONEFS_INIT=no
            Path other = ws.dir("not-a-pool");
            Files.writeString(other.resolve("data"), "someone's\n");
            refusedBeforeStart(other, "", other + " is not a clonefs pool and not empty");
            refusedBeforeStart(pool, "CLONEFS_INIT=no\n", "no pool at " + pool + " (CLONEFS_INIT=no");
            assertFalse(Files.exists(pool), "no pool made");

            // the control API also on a --listen address, through CLONEFS_MOUNT_OPTS (split into words)
            int listen = io.clonefs.it.support.Ports.free();
            writeConf(pool, "CLONEFS_MOUNT_OPTS=--listen 127.0.0.1:" + listen + "\n");
            Proc.Result verify = run("systemd-analyze", "verify", "clonefs@" + name + ".service");
            assertEquals(0, verify.exit(), verify.describe());
            assertFalse((verify.out() + verify.err()).contains("clonefs"), "systemd-analyze verify: " + verify.describe());

            Unit unit = Unit.read(UNIT, name);
            assertEquals(pool.toString(), unit.env().get("CLONEFS_POOL"), "EnvironmentFile read: " + unit.env());
            start(unit, ws);
            time("unit started (pool created, mounted)", t0);
            assertTrue(unit.exec("ExecStart").get(0).containsAll(List.of("--listen", "127.0.0.1:" + listen)),
                    "ExecStart with CLONEFS_MOUNT_OPTS: " + unit.exec("ExecStart"));
            java.net.http.HttpResponse<String> st = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + listen + "/v1/status")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(401, st.statusCode(), "the --listen address answers, a token required: " + st.body());

            JsonNode src = clonefsJson("pg", "init", "src");
            assertEquals("running", src.get("state").asText(), src.toString());
            try (Connection c = PgServer.connect(src.get("port").asInt()); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE answer AS SELECT 42 AS v");
            }
            JsonNode dev = clonefsJson("pg", "branch", "src", "dev");
            int devPort = dev.get("port").asInt();
            assertEquals("42", query(devPort, "SELECT v FROM answer"), "the branch holds the source's row");
            time("pg init, branch", t0);

            stop(unit);
            // what a reboot does: the unit starts again; the pool, its volumes and the branch's server come back
            start(unit, ws);
            assertEquals("42", waitForQuery(devPort, "SELECT v FROM answer"), "the branch's server runs again after a restart");
            stop(unit);
            time("stopped, started again, stopped", t0);

            Proc.Result rm = Proc.run(List.of("apt-get", "remove", "-y", "-q", "clonefs"),
                    Map.of("DEBIAN_FRONTEND", "noninteractive"), STEP).check();
            assertTrue(rm.out().contains("the pools and /etc/clonefs are kept"), rm.describe());
            assertFalse(Files.exists(Path.of("/usr/bin/clonefs")), "launcher removed");
            assertFalse(Files.exists(Path.of("/usr/lib/clonefs")), "/usr/lib/clonefs removed with the archive postinst made");
            assertTrue(Files.exists(ETC.resolve("default.conf")) && Files.exists(conf), "remove keeps /etc/clonefs");
            assertTrue(Files.exists(pool.resolve("meta/data.mdb")), "remove keeps the pool");
            // the pool is whole: the checkout's launcher opens it and lists its volumes
            String list = Proc.run(List.of(Clonefs.launcher().toString(), "--pool", pool.toString(), "list"),
                    Map.of("CLONEFS_JAR", Clonefs.jar().toString()), STEP).check().out();
            assertTrue(list.contains("src") && list.contains("dev"), "volumes after remove: " + list);

            Proc.Result purge = run("dpkg", "--purge", "clonefs").check();
            String said = purge.out() + purge.err();
            assertTrue(said.contains("purge keeps the pools (their volumes and databases): " + pool), said);
            assertTrue(said.contains("purge keeps the configurations it did not install: " + conf), said);
            assertFalse(Files.exists(ETC.resolve("default.conf")), "purge deletes its conffile");
            assertTrue(Files.exists(pool.resolve("meta/data.mdb")), "purge keeps the pool");
            assertFalse(installed(), "purged");
            time("removed, purged", t0);
        } finally {
            cleanUp(ws);
        }
        assertEquals(usrLocal, usrLocalState(), "a make install in /usr/local is untouched");
    }

    private void writeConf(Path poolDir, String extra) throws IOException {
        Files.writeString(conf, "# DebPackageIT: removed when the test ends\nCLONEFS_POOL=" + poolDir + "\nCLONEFS_MOUNTPOINT="
                + mountpoint + "\nCLONEFS_PORT=0\n" + extra);
    }

    /** With this pool in the configuration, the unit's ExecStartPre fails and says why. */
    private void refusedBeforeStart(Path poolDir, String extra, String message) throws IOException {
        writeConf(poolDir, extra);
        Unit unit = Unit.read(UNIT, name);
        List<List<String>> pre = unit.exec("ExecStartPre");
        assertEquals(1, pre.size(), "one ExecStartPre");
        Proc.Result r = Proc.run(pre.get(0), unit.env(), STEP);
        assertEquals(1, r.exit(), r.describe());
        assertTrue(r.err().contains(message), r.describe());
    }

    /** scripts/build-deb.sh, as make deb runs it, with the jar the build made. */
    private static Path build(Path out) {
        Path repo = Clonefs.launcher().getParent().getParent();
        Proc.Result r = Proc.run(List.of(repo.resolve("scripts/build-deb.sh").toString(), Clonefs.jar().toString(), out.toString()),
                Map.of(), STEP).check();
        Path deb = Path.of(r.out().strip());
        assertTrue(deb.getFileName().toString().matches("clonefs_[0-9][A-Za-z0-9.+~]*_all\\.deb"), deb.toString());
        assertTrue(Files.isRegularFile(deb), r.describe());
        return deb;
    }

    private static void checkPackage(Path deb) throws IOException {
        String info = run("dpkg-deb", "--info", deb.toString()).check().out();
        String version = deb.getFileName().toString().split("_")[1];
        for (String want : List.of("Package: clonefs", "Version: " + version, "Architecture: all",
                "Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, fuse3 | fuse, libfuse2 | libfuse2t64",
                "Recommends: postgresql-15", "postinst", "prerm", "postrm", "conffiles")) {
            assertTrue(info.contains(want), "dpkg-deb --info lacks '" + want + "':\n" + info);
        }
        assertEquals("/etc/clonefs/default.conf", conffiles(deb), "the default configuration is a conffile");
        String contents = run("dpkg-deb", "--contents", deb.toString()).check().out();
        for (String path : List.of("./usr/bin/clonefs", "./usr/lib/clonefs/clonefs.jar", "./lib/systemd/system/clonefs@.service",
                "./etc/clonefs/default.conf", "./usr/share/man/man1/clonefs.1.gz", "./usr/share/bash-completion/completions/clonefs",
                "./usr/libexec/clonefs/clonefs-service", "./usr/libexec/clonefs/cds-archive", "./usr/share/doc/clonefs/copyright")) {
            assertTrue(Pattern.compile(" root/root .* " + Pattern.quote(path) + "$", Pattern.MULTILINE).matcher(contents).find(),
                    "dpkg-deb --contents lacks " + path + " owned by root:\n" + contents);
        }
        assertFalse(contents.contains(".jsa"), "no class-data archive shipped (postinst makes it for the installed JDK)");
    }

    private static String conffiles(Path deb) throws IOException {
        Path dir = Files.createTempDirectory("clonefs-deb-control");
        try {
            run("dpkg-deb", "--control", deb.toString(), dir.toString()).check();
            return Files.readString(dir.resolve("conffiles")).strip();
        } finally {
            run("rm", "-rf", dir.toString());
        }
    }

    /** lintian with every level of tag: nothing but the overrides the package ships and explains. */
    private static void lintian(Path deb) {
        Proc.Result r = run("lintian", "-I", "-E", "--pedantic", "--show-overrides", deb.toString());
        assertEquals(0, r.exit(), r.describe());
        List<String> tags = r.out().lines().filter(l -> l.matches("^[EWIPX]: .*")).toList();
        assertEquals(List.of(), tags, "lintian:\n" + r.out());
    }

    /** ExecStartPre, ExecStart in the background (the daemon, the unit's main process), then ExecStartPost with MAINPID. */
    private void start(Unit unit, Workspace ws) {
        for (List<String> pre : unit.exec("ExecStartPre")) {
            Proc.run(pre, unit.env(), STEP).check();
        }
        List<List<String>> main = unit.exec("ExecStart");
        assertEquals(1, main.size(), "one ExecStart");
        daemon = Command.of(main.get(0)).env(unit.env()).directory(Path.of("/")).start(ws.root().resolve("daemon.log"));
        Map<String, String> env = new HashMap<>(unit.env());
        env.put("MAINPID", Long.toString(daemon.pid()));
        for (List<String> post : unit.exec("ExecStartPost")) {
            Proc.Result r = Proc.run(post, env, STEP);
            assertEquals(0, r.exit(), r.describe() + "\ndaemon log:\n" + log(ws));
        }
        assertTrue(KernelMounts.isMounted(mountpoint), "mounted once 'systemctl start' would return");
        assertTrue(daemon.isAlive(), "daemon runs");
    }

    /** ExecStop with MAINPID; the daemon then exits 0 and nothing is mounted. */
    private void stop(Unit unit) throws InterruptedException {
        Map<String, String> env = new HashMap<>(unit.env());
        env.put("MAINPID", Long.toString(daemon.pid()));
        for (List<String> stop : unit.exec("ExecStop")) {
            Proc.run(stop, env, STEP).check();
        }
        assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "daemon exits after ExecStop");
        assertEquals(0, daemon.exitValue(), "daemon exit code");
        assertFalse(KernelMounts.isMounted(mountpoint), "unmounted");
        daemon = null;
    }

    private JsonNode clonefsJson(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/clonefs", "--pool", pool.toString(), "--json"));
        cmd.addAll(List.of(args));
        return JSON.readTree(Proc.run(cmd, Map.of(), STEP).check().out());
    }

    private static String query(int port, String sql) throws Exception {
        try (Connection c = PgServer.connect(port)) {
            return Postgres.query(c, sql);
        }
    }

    private static String waitForQuery(int port, String sql) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return query(port, sql);
            } catch (java.sql.SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Proc.sleep(200);
            }
        }
    }

    /**
     * Whatever happened: the daemon stopped (through the unit's ExecStop, else its PostgreSQL
     * servers and itself killed), the mount gone, the package purged, the test's configuration deleted.
     */
    private void cleanUp(Workspace ws) {
        if (daemon != null && daemon.isAlive()) {
            Path launcher = Files.isExecutable(Path.of("/usr/bin/clonefs")) ? Path.of("/usr/bin/clonefs") : Clonefs.launcher();
            try {
                Proc.run(List.of(launcher.toString(), "--pool", pool.toString(), "umount", "--force", "--timeout", "60",
                        mountpoint.toString()), Map.of("CLONEFS_JAR", Clonefs.jar().toString()), Duration.ofSeconds(90));
            } catch (AssertionError e) {
                System.err.println("cleanup: umount: " + e.getMessage());
            }
            if (daemon.isAlive()) {
                killServers();
                Proc.kill9(daemon.pid());
            }
        }
        if (mountpoint != null && KernelMounts.isMounted(mountpoint)) {
            KernelMounts.forceUnmount(mountpoint);
        }
        if (installed()) {
            Proc.Result r = run("dpkg", "--purge", "clonefs");
            if (!r.ok()) {
                System.err.println("cleanup: " + r.describe());
            }
        }
        try {
            Files.deleteIfExists(conf);
            if (!etcExisted && Files.isDirectory(ETC)) {
                try (Stream<Path> left = Files.list(ETC)) {
                    if (left.findAny().isEmpty()) {
                        Files.delete(ETC);
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("cleanup: " + e);
        }
        ws.close();
    }

    /** The PostgreSQL servers of the pool's volumes (their postmaster.pid under the mount), killed. */
    private void killServers() {
        try (Stream<Path> vols = Files.list(mountpoint)) {
            for (Path v : vols.toList()) {
                Path pid = v.resolve("data/postmaster.pid");
                if (Files.isRegularFile(pid)) {
                    Proc.kill9(Long.parseLong(Files.readAllLines(pid).get(0).strip()));
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("cleanup: servers: " + e);
        }
    }

    private static boolean installed() {
        Proc.Result r = run("dpkg-query", "-W", "-f=${db:Status-Status}", "clonefs");
        return r.ok() && !r.out().strip().equals("not-installed");
    }

    /** What a make install put in /usr/local: each file's size and time. */
    private static Map<String, String> usrLocalState() throws IOException {
        Map<String, String> state = new TreeMap<>();
        for (Path p : List.of(Path.of("/usr/local/bin/clonefs"), Path.of("/usr/local/lib/clonefs"))) {
            if (!Files.exists(p)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(p)) {
                for (Path f : files.toList()) {
                    state.put(f.toString(), Files.isRegularFile(f) ? Files.size(f) + " " + Files.getLastModifiedTime(f) : "dir");
                }
            }
        }
        return state;
    }

    private static boolean onPath(String tool) {
        return run("sh", "-c", "command -v " + tool).ok();
    }

    private static Proc.Result run(String... cmd) {
        return Proc.run(List.of(cmd), Map.of(), STEP);
    }

    private static String log(Workspace ws) {
        try {
            return Files.readString(ws.root().resolve("daemon.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static void time(String what, long t0) {
        System.out.printf("DebPackageIT: %-40s at %5.1f s%n", what, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The installed unit, instance {@code instance}: its environment (Environment= lines, then the
     * EnvironmentFile's KEY=value lines, which override them) and its command lines, with %i and
     * ${VAR} expanded as systemd expands them (one word each; $VAR unbraced as a word of its own
     * becomes its value split on spaces, no word when empty).
     */
    record Unit(Map<String, String> env, Map<String, List<List<String>>> commands) {
        private static final Pattern WORDS = Pattern.compile("\\$([A-Za-z_][A-Za-z0-9_]*)");
        private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}|\\$([A-Za-z_][A-Za-z0-9_]*)");

        static Unit read(Path file, String instance) throws IOException {
            Map<String, String> env = new LinkedHashMap<>();
            Map<String, List<List<String>>> commands = new LinkedHashMap<>();
            List<String> raw = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#") || l.startsWith("[")) {
                    continue;
                }
                int eq = l.indexOf('=');
                String key = l.substring(0, eq);
                String value = specifiers(l.substring(eq + 1), instance);
                switch (key) {
                    case "Environment" -> {
                        int e = value.indexOf('=');
                        env.put(value.substring(0, e), value.substring(e + 1));
                    }
                    case "EnvironmentFile" -> {
                        Path f = Path.of(value.startsWith("-") ? value.substring(1) : value);
                        if (Files.exists(f) || !value.startsWith("-")) {
                            for (String kv : Files.readAllLines(f)) {
                                String s = kv.strip();
                                if (!s.isEmpty() && !s.startsWith("#")) {
                                    int e = s.indexOf('=');
                                    env.put(s.substring(0, e).strip(), s.substring(e + 1).strip().replaceAll("^\"|\"$", ""));
                                }
                            }
                        }
                    }
                    default -> {
                        if (key.startsWith("Exec")) {
                            raw.add(key + "=" + value);
                        }
                    }
                }
            }
            for (String r : raw) {
                int eq = r.indexOf('=');
                List<String> words = new ArrayList<>();
                for (String w : r.substring(eq + 1).strip().split("\\s+")) {
                    Matcher whole = WORDS.matcher(w);
                    if (whole.matches()) { // $VAR alone: its value split at whitespace, no word when empty
                        String v = env.get(whole.group(1));
                        assertTrue(v != null, "unset variable in " + r + ": " + env);
                        for (String part : v.strip().split("\\s+")) {
                            if (!part.isEmpty()) {
                                words.add(part);
                            }
                        }
                        continue;
                    }
                    Matcher m = VAR.matcher(w);
                    StringBuilder b = new StringBuilder();
                    while (m.find()) {
                        String v = env.get(m.group(1) != null ? m.group(1) : m.group(2));
                        assertTrue(v != null, "unset variable in " + r + ": " + env);
                        m.appendReplacement(b, Matcher.quoteReplacement(v));
                    }
                    m.appendTail(b);
                    words.add(b.toString());
                }
                assertTrue(words.get(0).startsWith("/"), "an absolute program: " + r);
                commands.computeIfAbsent(r.substring(0, eq), k -> new ArrayList<>()).add(words);
            }
            return new Unit(env, commands);
        }

        private static String specifiers(String s, String instance) {
            return s.replace("%%", "\u0000").replace("%i", instance).replace("\u0000", "%");
        }

        List<List<String>> exec(String key) {
            return commands.getOrDefault(key, List.of());
        }
    }
}
