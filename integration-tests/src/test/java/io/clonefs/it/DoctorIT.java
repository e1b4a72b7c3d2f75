package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.it.support.Proc;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code clonefs doctor} as a user runs it (the launcher, a process of its own): on this host,
 * which the tests need ready, and on the same host with a PostgreSQL bin directory without
 * {@code pg_ctl}, a port range another program listens in and no cgroups, where it must fail.
 */
class DoctorIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("clonefs.it.launcher", "bin/clonefs"));
    private static final String JAR = System.getProperty("clonefs.it.jar", "");
    private static final Path REPO = LAUNCHER.toAbsolutePath().normalize().getParent().getParent();

    @TempDir
    Path tmp;

    private Proc.Result doctor(Map<String, String> env, String... args) {
        Map<String, String> e = new HashMap<>(env);
        if (!JAR.isEmpty()) {
            e.put("CLONEFS_JAR", JAR);
        }
        List<String> cmd = new java.util.ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        return Proc.run(cmd, e, Duration.ofMinutes(1));
    }

    private static void line(String out, String status, String name) {
        assertTrue(Pattern.compile("(?m)^" + status + " +" + name + " ").matcher(out).find(),
                "no '" + status + " " + name + "' line in:\n" + out);
    }

    @Test
    void thisHostIsReady() throws Exception {
        Proc.Result r = doctor(Map.of(), "doctor");
        System.out.println("---- clonefs doctor\n" + r.out() + r.err());
        assertEquals(0, r.exit(), r.describe());
        for (String check : List.of("fuse-device", "libfuse2", "allow-other", "java", "postgresql", "pg-user")) {
            line(r.out(), "OK", check);
        }
        JsonNode json = new ObjectMapper().readTree(doctor(Map.of(), "doctor", "--json").check().out());
        assertTrue(json.get("ok").asBoolean(), json.toString());
        assertEquals(0, json.get("blockers").asInt());
        assertTrue(json.get("checks").size() >= 10, json.toString());
    }

    /** make demo runs doctor after the build and stops on a blocker, before it makes anything. */
    @Test
    void theDemoStopsOnABlocker() throws Exception {
        Path bin = Files.createDirectory(tmp.resolve("empty-bin"));
        Path dir = tmp.resolve("demo");
        Map<String, String> env = new HashMap<>(Map.of("DEMO_DIR", dir.toString(), "DEMO_SKIP_DEPS", "1",
                "DEMO_SKIP_BUILD", "1", "CLONEFS_PG_BIN", bin.toString()));
        if (!JAR.isEmpty()) {
            env.put("CLONEFS_JAR", JAR);
        }
        Proc.Result r = Proc.run(List.of("bash", REPO.resolve("scripts/demo.sh").toString()), env, Duration.ofMinutes(2));
        System.out.println("---- make demo without PostgreSQL's programs\n" + r.out() + r.err());
        assertTrue(r.exit() != 0, r.describe());
        assertTrue(r.out().contains("checking this host: clonefs doctor --pool " + dir.resolve("pool")), r.out());
        line(r.err().replace("         FAIL", "FAIL"), "FAIL", "postgresql");
        assertTrue(r.err().contains("demo: clonefs doctor found a blocker"), r.err());
        assertTrue(!Files.exists(dir.resolve("pool")) && !Files.exists(dir.resolve("mnt")), "nothing made");
    }

    @Test
    void aHostWithoutPgCtlAndWithATakenPortRangeFails() throws Exception {
        Path bin = Files.createDirectory(tmp.resolve("bin"));
        for (String p : List.of("initdb", "postgres")) {
            Path f = Files.writeString(bin.resolve(p), "#!/bin/sh\nexit 1\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path cgroups = Files.createDirectory(tmp.resolve("cgroups"));
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Map<String, String> env = Map.of("CLONEFS_PG_BIN", bin.toString(), "CLONEFS_PG_PORTS", port + "-" + port,
                    "CLONEFS_CGROUP_ROOT", cgroups.toString());
            Proc.Result r = doctor(env, "doctor", "--pool", "/dev/shm/clonefs-doctor-it-none");
            System.out.println("---- clonefs doctor on a host without pg_ctl\n" + r.out() + r.err());
            assertEquals(7, r.exit(), r.describe());
            line(r.out(), "FAIL", "postgresql");
            assertTrue(r.out().contains("no pg_ctl, pg_basebackup in " + bin + " (CLONEFS_PG_BIN)"), r.out());
            line(r.out(), "FAIL", "ports");
            assertTrue(r.out().contains(port + "-" + port + " (CLONEFS_PG_PORTS): " + port + " in use"), r.out());
            line(r.out(), "WARN", "cgroups");
            line(r.out(), "WARN", "pool-disk"); // /dev/shm is tmpfs
            line(r.out(), "OK", "fuse-device");
            assertTrue(r.out().contains("2 blockers: fix the FAIL lines first"), r.out());
            assertTrue(r.err().isEmpty(), r.err());
        }
    }
}
