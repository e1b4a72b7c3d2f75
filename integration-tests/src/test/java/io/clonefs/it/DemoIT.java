package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What a new user runs first: {@code make demo} ({@code scripts/demo.sh}) end to end at a small
 * size, then {@code make demo-clean}; and {@code make install} / {@code make uninstall} of the
 * launcher. Uses the jar this build made (no dependency install, no rebuild).
 */
class DemoIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("clonefs.it.launcher", "bin/clonefs"));
    private static final Path REPO = LAUNCHER.toAbsolutePath().normalize().getParent().getParent();
    private static final Path JAR = Path.of(System.getProperty("clonefs.it.jar", REPO + "/cli/target/clonefs.jar"));
    private static final Pattern URI = Pattern.compile("connection URI +(postgresql://postgres@127\\.0\\.0\\.1:(\\d+)/postgres)");
    private static final Pattern TOOK = Pattern.compile("branch took +(\\d+) ms");
    private static final Pattern SPACE = Pattern.compile(
            "extra space +pool used ([0-9.]+) MiB before, ([0-9.]+) MiB after: (-?[0-9.]+) MiB added");
    private static final Pattern UNIQUE = Pattern.compile("branch unique +([0-9.]+) MiB");

    @Test
    void demoBranchesAServingDatabaseAndCleansUp() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "clonefs-demoit-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // postgres must reach the mount
        Map<String, String> env = new HashMap<>();
        env.put("DEMO_DIR", dir.toString());
        env.put("DEMO_SCALE", "1");
        env.put("DEMO_SKIP_DEPS", "1");
        env.put("DEMO_SKIP_BUILD", "1");
        env.put("CLONEFS_JAR", JAR.toString());
        env.put("PGBIN", System.getProperty("clonefs.it.pgbin", "/usr/lib/postgresql/15/bin"));
        int first = 46000 + ThreadLocalRandom.current().nextInt(0, 100) * 20; // away from other tests' servers
        env.put("CLONEFS_PG_PORTS", first + "-" + (first + 19));
        Path mnt = dir.resolve("mnt");
        try {
            Proc.Result r = Proc.run(List.of("bash", REPO.resolve("scripts/demo.sh").toString()), env, Duration.ofMinutes(10));
            System.out.println("---- make demo (DEMO_SCALE=1)\n" + r.out() + r.err());
            r.check();
            String out = r.out();
            assertTrue(Pattern.compile("(?m)^\\[ *\\d+ s\\] ").matcher(out).find(), "progress lines: " + out);

            Matcher uri = URI.matcher(out);
            assertTrue(uri.find(), "a connection URI: " + out);
            Matcher took = TOOK.matcher(out);
            assertTrue(took.find(), "the time the branch took: " + out);
            long ms = Long.parseLong(took.group(1));
            assertTrue(ms > 0 && ms < 120_000, "branch time " + ms + " ms");
            Matcher space = SPACE.matcher(out);
            assertTrue(space.find(), "the pool space before and after: " + out);
            assertTrue(Double.parseDouble(space.group(2)) > 0, out);
            assertTrue(UNIQUE.matcher(out).find(), "the branch's unique bytes: " + out);
            assertTrue(out.contains("psql \"" + uri.group(1) + "\""), "how to connect: " + out);
            assertTrue(out.contains("make demo-clean"), "how to clean up: " + out);

            // the URI answers a query, and the branch holds the sample database
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + uri.group(2) + "/postgres",
                    "postgres", "");
                 Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertTrue(rs.next());
                    assertEquals(1, rs.getInt(1));
                }
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pgbench_accounts")) {
                    assertTrue(rs.next());
                    assertEquals(100_000, rs.getLong(1));
                }
            }
            assertTrue(KernelMounts.isMounted(mnt), "the demo leaves its mount up for the user");
        } finally {
            Proc.Result clean = Proc.run(List.of("bash", REPO.resolve("scripts/demo-clean.sh").toString()), env,
                    Duration.ofMinutes(3));
            System.out.println("---- make demo-clean\n" + clean.out() + clean.err());
            if (KernelMounts.isMounted(mnt)) {
                KernelMounts.forceUnmount(mnt);
                throw new AssertionError("demo-clean left " + mnt + " mounted: " + clean.describe());
            }
            clean.check();
        }
        assertFalse(KernelMounts.isMounted(mnt), "no mount after demo-clean");
        assertFalse(Files.exists(dir.resolve("pool")), "demo-clean removes the pool");
        assertFalse(Files.exists(dir), "demo-clean removes the demo directory it emptied");
    }

    @Test
    void installPutsAWorkingLauncherInPrefix() throws Exception {
        Path prefix = Files.createTempDirectory("clonefs-install-");
        Map<String, String> env = Map.of();
        Proc.run(List.of("make", "-C", REPO.toString(), "--no-print-directory", "install", "PREFIX=" + prefix,
                "SKIP_BUILD=1", "JAR=" + JAR), env, Duration.ofMinutes(2)).check();
        Path bin = prefix.resolve("bin/clonefs");
        assertTrue(Files.isExecutable(bin), bin + " is installed");
        assertTrue(Files.isRegularFile(prefix.resolve("lib/clonefs/clonefs.jar")));

        String version;
        try (JarFile jar = new JarFile(JAR.toFile())) {
            version = jar.getManifest().getMainAttributes().getValue("Implementation-Version");
        }
        assertNotNull(version, "the jar's manifest carries the pom version");
        Proc.Result v = Proc.run(List.of(bin.toString(), "--version")).check();
        assertTrue(v.out().startsWith("clonefs " + version + " "), v.describe());

        // the launcher's JVM flags are enough for lmdbjava: create a pool and read its space
        Path pool = prefix.resolve("pool");
        Proc.run(List.of(bin.toString(), "init", pool.toString())).check();
        Proc.Result space = Proc.run(List.of(bin.toString(), "--pool", pool.toString(), "space", "--json")).check();
        assertTrue(space.out().contains("usedBytes"), space.describe());

        Proc.run(List.of("make", "-C", REPO.toString(), "--no-print-directory", "uninstall", "PREFIX=" + prefix), env,
                Duration.ofMinutes(1)).check();
        assertFalse(Files.exists(bin), "make uninstall removes the launcher");
        assertFalse(Files.exists(prefix.resolve("lib/clonefs/clonefs.jar")), "and the jar");
        Proc.run(List.of("rm", "-rf", prefix.toString())).check();
    }
}
