package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * User errors through the real launcher against a mounted pool (and one that is not mounted): each
 * is one line on stderr, a stable non-zero exit code, and changes nothing.
 */
class CliErrorsIT {
    private static Workspace ws;
    private static Clonefs cfs;
    private static Path mnt;
    private static long daemonPid;

    @BeforeAll
    static void mountPool() throws Exception {
        ws = Workspace.create("errors");
        cfs = new Clonefs(ws, ws.root().resolve("pool"));
        cfs.init();
        mnt = ws.dir("mnt");
        cfs.mount(mnt);
        daemonPid = cfs.daemonPid();
        assertTrue(daemonPid > 0, "no daemon published");
        cfs.ok("create", "data");
        Files.writeString(mnt.resolve("data/hello.txt"), "hello\n");
        cfs.ok("snapshot", "data@s1");
        cfs.ok("clone", "data@s1", "c1");
    }

    @AfterAll
    static void teardown() {
        if (ws != null) {
            ws.close();
        }
    }

    /** Exit code as expected, exactly one line on stderr, no stack trace. */
    private static Proc.Result fails(int code, String expectInMessage, String... args) {
        Proc.Result r = cfs.run(args);
        assertEquals(code, r.exit(), r.describe());
        String err = r.err().strip();
        assertFalse(err.isEmpty(), "no message: " + r.describe());
        assertFalse(err.contains("\n"), "more than one line: " + r.describe());
        assertTrue(err.startsWith("clonefs: "), r.describe());
        assertFalse(err.contains("Exception") || err.contains("\tat "), r.describe());
        assertTrue(err.toLowerCase().contains(expectInMessage.toLowerCase()),
                "message should mention '" + expectInMessage + "': " + err);
        return r;
    }

    private static String datasets() {
        JsonNode d = cfs.json("list");
        StringBuilder b = new StringBuilder();
        d.get("volumes").forEach(v -> b.append(v.get("name").asText()).append(' '));
        d.get("snapshots").forEach(s -> b.append(s.get("name").asText()).append(' '));
        return b.toString().strip();
    }

    private static void unchanged(String before) throws Exception {
        assertEquals(before, datasets());
        assertEquals(daemonPid, cfs.daemonPid(), "the daemon changed");
        assertTrue(KernelMounts.isMounted(mnt));
        assertEquals("hello\n", Files.readString(mnt.resolve("data/hello.txt")));
    }

    @Test
    void mountingAPoolThatIsAlreadyMounted() throws Exception {
        String before = datasets();
        Path other = ws.dir("mnt-other");
        fails(4, "already mounted", "mount", cfs.pool().toString(), other.toString());
        assertFalse(KernelMounts.isMounted(other));
        fails(4, "already mounted", "mount", cfs.pool().toString(), mnt.toString());
        unchanged(before);
    }

    @Test
    void mountingOnAMissingMountPoint() throws Exception {
        Clonefs second = new Clonefs(ws, ws.root().resolve("pool2"));
        second.init();
        Path missing = ws.root().resolve("no-such-dir");
        fails(3, "does not exist", "mount", second.pool().toString(), missing.toString());
        assertFalse(Files.exists(missing));
        assertFalse(Files.exists(second.pool().resolve("daemon.json")));
        assertEquals(-1, second.daemonPid());
        fails(3, "no clonefs pool", "mount", ws.root().resolve("no-pool").toString(), ws.dir("mnt3").toString());
        unchanged(datasets());
    }

    @Test
    void unknownVolumesAndSnapshots() throws Exception {
        String before = datasets();
        fails(3, "nosuch", "snapshot", "nosuch@s");
        fails(3, "nosuch", "clone", "nosuch@s1", "newvol");
        fails(3, "nosuch", "clone", "nosuch", "newvol");
        fails(3, "data@nosnap", "clone", "data@nosnap", "newvol");
        fails(3, "nosuch", "destroy", "nosuch");
        fails(3, "data@nosnap", "destroy", "data@nosnap");
        unchanged(before);
    }

    @Test
    void invalidNames() throws Exception {
        String before = datasets();
        for (String bad : new String[] {"../etc", ".hidden", "a/b", "x".repeat(64), "sp ace", ""}) {
            fails(2, "name", "create", bad);
        }
        fails(2, "name", "snapshot", "data@bad/name");
        fails(2, "VOLUME@SNAPSHOT", "snapshot", "data");
        fails(2, "name", "clone", "data", "bad name");   // must not leave a snapshot behind
        fails(2, "name", "clone", "data@s1", "../x");
        fails(4, "already exists", "create", "data");
        fails(4, "already exists", "clone", "data", "c1"); // must not leave a snapshot behind
        fails(4, "already exists", "snapshot", "data@s1");
        unchanged(before);
    }

    @Test
    void destroyWithDependants() throws Exception {
        String before = datasets();
        fails(4, "snapshot", "destroy", "data");
        fails(4, "clone", "destroy", "data@s1");
        unchanged(before);
        assertTrue(Files.exists(mnt.resolve("c1/hello.txt")));
        // recursively it works: a throwaway family
        cfs.ok("create", "tmpvol");
        cfs.ok("snapshot", "tmpvol@a");
        cfs.ok("clone", "tmpvol@a", "tmpclone");
        fails(4, "snapshot", "destroy", "tmpvol");
        cfs.ok("destroy", "-r", "tmpvol");
        assertEquals(before, datasets());
    }

    @Test
    void controlApiNeedsTheToken() throws Exception {
        Path token = cfs.pool().resolve("daemon.token");
        Path info = cfs.pool().resolve("daemon.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(info)));
        int port = cfs.daemonInfo().get("port").asInt();
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/volumes"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"sneaky\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode(), r.body());
        assertTrue(r.body().contains("unauthorized"), r.body());
        r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/datasets"))
                .header("Authorization", "Bearer " + Files.readString(token).strip()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(r.body().contains("sneaky"));
    }

    @Test
    void umountRefusesWhileTheMountIsBusy() throws Exception {
        String before = datasets();
        try (var ch = java.nio.channels.FileChannel.open(mnt.resolve("data/hello.txt"))) {
            fails(4, "busy", "umount", mnt.toString());
            unchanged(before);
            assertEquals(6, ch.size());
        }
    }

    @Test
    void umountOfSomethingThatIsNotMounted() {
        fails(3, "not mounted", "umount", ws.dir("never-mounted").toString());
    }

    @Test
    void withoutADaemonCommandsOpenThePoolThemselves() throws Exception {
        Clonefs direct = new Clonefs(ws, ws.root().resolve("pool-direct"));
        direct.init();
        direct.ok("create", "v");
        direct.ok("snapshot", "v@s");
        Proc.Result r = direct.run("snapshot", "nosuch@s");
        assertEquals(3, r.exit(), r.describe());
        assertEquals(1, direct.json("list").get("volumes").size());
        assertEquals(0, direct.run("fsck").exit());
    }
}
