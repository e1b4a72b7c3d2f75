package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.base.Command;
import io.clonefs.it.api.ApiClient;
import io.clonefs.it.api.OpenApiCheck;
import io.clonefs.it.support.Ceph;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Snapshots pushed to an S3 remote (a real Ceph radosgw, {@link Ceph}) and cloned on another
 * pool, both mounted by real daemons: bytes compared through the mounts, an incremental push
 * uploads only the changed blocks, an interrupted push (gateway stopped) resumes without uploading
 * its packs again, the remote and cache routes match the OpenAPI document.
 */
class RemoteIT {
    private static final int BS = 8192;
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("remote").withCeph().pools("a", "b").build();

    @Test
    void pushCloneIncrementalResumeAndApi() throws Exception {
        Workspace ws = pools.ws();
        Ceph ceph = pools.ceph();
        ceph.createBucket("clonefs");
        Path keys = ws.dir("keys").resolve("s3.keys");
        Files.writeString(keys, "aws_access_key_id=" + ceph.accessKey() + "\naws_secret_access_key=" + ceph.secretKey() + "\n");
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));

        Clonefs a = pools.clonefs("a");
        Clonefs b = pools.clonefs("b");
        Path ma = pools.mnt("a");
        Path mb = pools.mnt("b");

        // remotes: a missing bucket or an unsafe key file is refused, nothing stored
        Proc.Result bad = a.run("remote", "add", "ceph", "--endpoint", ceph.endpoint(), "--bucket", "nosuchbucket",
                "--credentials-file", keys.toString());
        assertEquals(3, bad.exit(), bad.describe());
        assertEquals(0, a.json("remote", "list").size());
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(2, a.run("remote", "add", "ceph", "--endpoint", ceph.endpoint(), "--bucket", "clonefs",
                "--credentials-file", keys.toString()).exit());
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        for (Clonefs c : List.of(a, b)) {
            c.ok("remote", "add", "ceph", "--endpoint", ceph.endpoint(), "--bucket", "clonefs", "--prefix", "it/remote",
                    "--credentials-file", keys.toString());
            assertEquals("ceph", c.json("remote", "list").get(0).get("name").asText());
        }
        assertEquals(4, a.run("remote", "add", "ceph", "--endpoint", ceph.endpoint(), "--bucket", "clonefs",
                "--credentials-file", keys.toString()).exit(), "duplicate");

        // s1: random data, small files, a directory, a symlink, a FIFO, a device and a socket
        a.ok("create", "vol");
        Path vol = ma.resolve("vol");
        Random rnd = new Random(42);
        writeRandom(vol.resolve("big"), 24 << 20, rnd);
        Files.writeString(vol.resolve("small.txt"), "hello remote\n");
        Files.createDirectories(vol.resolve("dir/sub"));
        writeRandom(vol.resolve("dir/sub/odd"), 3 * BS + 123, rnd);
        Files.createSymbolicLink(vol.resolve("dir/link"), Path.of("../small.txt"));
        Proc.run(List.of("mkfifo", "-m", "0640", vol.resolve("dir/fifo").toString())).check();
        Proc.run(List.of("mknod", "-m", "0660", vol.resolve("dir/loop9").toString(), "b", "7", "9")).check();
        try (var sock = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            sock.bind(java.net.UnixDomainSocketAddress.of(vol.resolve("sock")));
        }
        a.ok("snapshot", "vol@s1");
        JsonNode p1 = a.json("push", "vol@s1", "ceph");
        assertFalse(p1.get("alreadyPushed").asBoolean());
        assertEquals(p1.get("blocks").asLong(), p1.get("uploadedBlocks").asLong(), p1.toString());
        assertTrue(p1.get("blocks").asLong() >= (24 << 20) / BS, p1.toString());
        JsonNode again = a.json("push", "vol@s1", "ceph");
        assertTrue(again.get("alreadyPushed").asBoolean(), again.toString());
        assertTrue(a.ok("push", "vol@s1", "ceph").out().contains("already"));
        try (var s3 = ceph.client()) {
            assertTrue(s3.headObject(h -> h.bucket("clonefs").key("it/remote/manifests/vol@s1.json")).contentLength() > 0);
        }

        JsonNode c1 = b.json("clone", "ceph:vol@s1", "copy1");
        assertEquals("ceph.vol@s1", c1.get("origin").asText());
        assertTrue(c1.get("imported").asBoolean());
        assertSameTree(ma.resolve("vol"), mb.resolve("copy1"));
        assertEquals("../small.txt", Files.readSymbolicLink(mb.resolve("copy1/dir/link")).toString());
        assertEquals(060660, (Integer) Files.getAttribute(mb.resolve("copy1/dir/loop9"), "unix:mode", LinkOption.NOFOLLOW_LINKS));
        assertEquals((7L << 8) | 9, (Long) Files.getAttribute(mb.resolve("copy1/dir/loop9"), "unix:rdev", LinkOption.NOFOLLOW_LINKS));
        JsonNode cache = b.json("cache", "status");
        assertTrue(cache.get("fetches").asLong() > 0, cache.toString());
        assertEquals(0, cache.get("fetchErrors").asLong(), cache.toString());
        // a second clone of the same snapshot imports nothing
        JsonNode c1b = b.json("clone", "ceph:vol@s1", "copy1b");
        assertFalse(c1b.get("imported").asBoolean());
        // the clone is writable and independent
        Files.writeString(mb.resolve("copy1/small.txt"), "changed on b\n");
        assertEquals("hello remote\n", Files.readString(mb.resolve("copy1b/small.txt")));

        // s2: five blocks changed (distinct contents): only those are uploaded
        try (RandomAccessFile f = new RandomAccessFile(vol.resolve("big").toFile(), "rw")) {
            for (int i = 0; i < 5; i++) {
                byte[] blk = new byte[BS];
                rnd.nextBytes(blk);
                f.seek((long) (i * 397 + 11) * BS);
                f.write(blk);
            }
        }
        a.ok("snapshot", "vol@s2");
        JsonNode p2 = a.json("push", "vol@s2", "ceph");
        assertEquals(5, p2.get("uploadedBlocks").asLong(), p2.toString());
        assertEquals(5L * BS, p2.get("uploadedBytes").asLong(), p2.toString());
        JsonNode c2 = b.json("clone", "ceph:vol@s2", "copy2");
        assertTrue(c2.get("imported").asBoolean());
        assertSameTree(ma.resolve("vol"), mb.resolve("copy2"));

        // evict the cache: reads fetch again and still match
        b.ok("cache", "evict");
        assertEquals(0, b.json("cache", "status").get("cachedBytes").asLong());
        assertSameTree(ma.resolve("vol"), mb.resolve("copy2"));

        // s3: a push cut off by a gateway outage resumes without uploading its packs again
        writeRandom(vol.resolve("large"), 256 << 20, rnd);
        a.ok("snapshot", "vol@s3");
        Path journal = a.pool().resolve("remotes/ceph/push-vol@s3.journal");
        Path log = ws.dir("logs").resolve("push-s3.log");
        Process push = Command.of(Clonefs.launcher().toString(), "push", "vol@s3", "ceph").env(a.env()).start(log);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!(Files.exists(journal) && Files.size(journal) > 4 * 1024) && push.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(push.isAlive(), "the push ended before a pack was journaled; cannot interrupt it:\n" + Files.readString(log));
        ceph.stopGateway();
        assertTrue(push.waitFor(5, TimeUnit.MINUTES), "the push did not fail while the gateway was down");
        assertNotEquals(0, push.exitValue(), "the push succeeded although the gateway was stopped:\n" + Files.readString(log));
        assertTrue(Files.exists(journal), "the journal must stay for the resume");
        ceph.startGateway();
        JsonNode p3 = a.json("push", "vol@s3", "ceph");
        long newBlocks = (256L << 20) / BS;
        assertTrue(p3.get("resumedPacks").asLong() >= 1, p3.toString());
        assertTrue(p3.get("uploadedBlocks").asLong() < newBlocks, p3.toString());
        assertTrue(p3.get("uploadedBlocks").asLong() >= newBlocks - p3.get("resumedPacks").asLong() * 512, p3.toString());
        assertFalse(Files.exists(journal), "the journal is removed once the manifest is written");
        b.json("clone", "ceph:vol@s3", "copy3");
        assertSameTree(ma.resolve("vol"), mb.resolve("copy3"));

        // the API: every remote and cache route, checked against the document
        ApiClient api = new ApiClient(b.pool());
        ApiClient.Reply doc = api.raw("GET", "/v1/openapi.json", null, null);
        OpenApiCheck check = new OpenApiCheck(doc.body().getBytes(StandardCharsets.UTF_8));
        api.validateWith(check);
        assertEquals(1, api.expect(200, "GET", "/v1/remotes", null).size());
        String add = "{\"name\":\"ceph2\",\"endpoint\":\"" + ceph.endpoint() + "\",\"bucket\":\"clonefs\",\"prefix\":\"it/remote\","
                + "\"accessKey\":\"" + ceph.accessKey() + "\",\"secretKey\":\"" + ceph.secretKey() + "\"}";
        assertEquals("ceph2", api.expect(201, "POST", "/v1/remotes", add).get("name").asText());
        assertEquals("already_exists", api.call("POST", "/v1/remotes", add).code());
        api.expect(200, "GET", "/v1/remotes/ceph2/push", null);
        JsonNode c4 = api.expect(201, "POST", "/v1/remotes/ceph2/clone", "{\"source\":\"vol@s1\",\"name\":\"copy4\"}");
        assertEquals("ceph2.vol@s1", c4.get("origin").asText());
        JsonNode im = api.expect(200, "POST", "/v1/remotes/ceph2/import", "{\"source\":\"vol@s1\"}");
        assertFalse(im.get("imported").asBoolean(), im.toString()); // the clone above imported it
        assertEquals("ceph2.vol", im.get("volume").asText());
        assertEquals(404, api.call("POST", "/v1/remotes/ceph2/clone", "{\"source\":\"vol@nope\",\"name\":\"x\"}").status());
        b.ok("snapshot", "copy1@b1");
        JsonNode pb1 = api.expect(200, "POST", "/v1/remotes/ceph2/push", "{\"snapshot\":\"copy1@b1\"}");
        assertFalse(pb1.get("alreadyPushed").asBoolean()); // (its blocks are fetched from the remote to be hashed)
        api.expect(200, "GET", "/v1/cache", null);
        api.expect(200, "POST", "/v1/cache/evict", "{\"keepBytes\":0}");
        api.expect(200, "DELETE", "/v1/remotes/ceph2", null);
        assertEquals(404, api.call("DELETE", "/v1/remotes/ceph2", null).status());
        Set<String> missing = check.operations().stream().filter(o -> o.contains("/v1/remotes") || o.contains("/v1/cache"))
                .collect(Collectors.toCollection(TreeSet::new));
        missing.removeAll(check.exercised());
        assertEquals(Set.of(), missing, "documented but not exercised");

        // a remote that is down: reads of blocks not cached get EIO, and work again once it is back
        // (a fresh clone: the kernel's page cache of copy3 would answer without asking the daemon)
        b.ok("cache", "evict");
        b.ok("clone", "ceph:vol@s3", "copy5");
        ceph.stopGateway();
        assertTrue(readFails(mb.resolve("copy5/large")), "a read with the gateway down must fail (EIO)");
        assertTrue(b.json("cache", "status").get("fetchErrors").asLong() > 0);
        ceph.startGateway();
        assertSameTree(ma.resolve("vol"), mb.resolve("copy5"));
    }

    private static void writeRandom(Path file, int size, Random rnd) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            for (int left = size; left > 0; ) {
                rnd.nextBytes(buf);
                int n = Math.min(left, buf.length);
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }

    private static boolean readFails(Path file) {
        try (var in = Files.newInputStream(file)) {
            in.readAllBytes();
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** The same files, directories, symlinks, special files and bytes under both roots. */
    private static void assertSameTree(Path want, Path got) throws IOException {
        List<Path> w = list(want);
        List<Path> g = list(got);
        assertEquals(w.stream().map(Path::toString).toList(), g.stream().map(Path::toString).toList(), "names under " + got);
        for (Path rel : w) {
            Path x = want.resolve(rel);
            Path y = got.resolve(rel);
            if (Files.readAttributes(x, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
                // FIFO, device, socket: type, permissions and device number
                for (String attr : List.of("unix:mode", "unix:rdev")) {
                    assertEquals(Files.getAttribute(x, attr, LinkOption.NOFOLLOW_LINKS), Files.getAttribute(y, attr,
                            LinkOption.NOFOLLOW_LINKS), rel + " " + attr);
                }
            } else if (Files.isSymbolicLink(x)) {
                assertEquals(Files.readSymbolicLink(x), Files.readSymbolicLink(y), rel.toString());
            } else if (Files.isRegularFile(x)) {
                assertEquals(Files.size(x), Files.size(y), rel.toString());
                try (var a = Files.newInputStream(x); var b = Files.newInputStream(y)) {
                    byte[] ba = new byte[1 << 20];
                    byte[] bb = new byte[1 << 20];
                    while (true) {
                        int na = a.readNBytes(ba, 0, ba.length);
                        int nb = b.readNBytes(bb, 0, bb.length);
                        assertEquals(na, nb, rel.toString());
                        if (na == 0) {
                            break;
                        }
                        assertArrayEquals(ba, bb, rel + ": contents differ");
                    }
                }
            }
        }
    }

    private static List<Path> list(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var s = Files.walk(root)) {
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(root.relativize(p)));
        }
        out.sort(null);
        return out;
    }
}
