package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.base.Command;
import io.clonefs.it.support.Ceph;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Deleting snapshots from an S3 remote and collecting what they alone referenced, on a real Ceph
 * radosgw ({@link Ceph}) with two mounted pools: objects are counted through the S3 API before
 * and after; a dry run deletes nothing; a corrupted manifest stops the gc with nothing deleted; a
 * push waits for a gc's lease and a gc stops for a running push; a gc looping while another pool
 * pushes (reusing packs of a deleted snapshot) and clones never costs a listed snapshot a block;
 * a local import is not reused once the remote's snapshot was deleted or pushed again.
 */
class RemoteGcIT {
    private static final String BUCKET = "clonefs";
    private static final String P = "it/gc/";
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("remotegc").withCeph().pools("a", "b").build();

    @Test
    void deleteGcProtocolAndImportCheck() throws Exception {
        Workspace ws = pools.ws();
        Ceph ceph = pools.ceph();
        ceph.createBucket(BUCKET);
        Path keys = ws.dir("keys").resolve("s3.keys");
        Files.writeString(keys, "aws_access_key_id=" + ceph.accessKey() + "\naws_secret_access_key=" + ceph.secretKey() + "\n");
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        Clonefs a = pools.clonefs("a");
        Clonefs b = pools.clonefs("b");
        Path ma = pools.mnt("a");
        Path mb = pools.mnt("b");
        for (Clonefs c : List.of(a, b)) {
            c.ok("remote", "add", "ceph", "--endpoint", ceph.endpoint(), "--bucket", BUCKET, "--prefix", "it/gc",
                    "--credentials-file", keys.toString());
        }
        Random rnd = new Random(7);
        a.ok("create", "vol");
        Path vol = ma.resolve("vol");

        try (S3Client s3 = ceph.client()) {
            // s1 and s2 share no block: s1 holds file A, s2 only file B
            writeRandom(vol.resolve("A"), 6 << 20, rnd);
            a.ok("snapshot", "vol@s1");
            JsonNode p1 = a.json("push", "vol@s1", "ceph");
            Files.delete(vol.resolve("A"));
            writeRandom(vol.resolve("B"), 6 << 20, rnd);
            a.ok("snapshot", "vol@s2");
            a.json("push", "vol@s2", "ceph");
            Map<String, Long> before = objects(s3);
            assertEquals(2, count(before, "manifests/"), before.toString());
            long s1Packs = p1.get("packs").asLong();
            assertTrue(s1Packs >= 2, p1.toString());

            // nothing is garbage yet
            JsonNode dry0 = a.json("remote", "gc", "ceph", "--grace", "0");
            assertEquals(0, dry0.get("packs").asLong() + dry0.get("listings").asLong(), dry0.toString());

            // delete s1: only its manifest goes; it cannot be cloned any more
            a.ok("remote", "delete", "ceph", "vol@s1");
            assertEquals(count(before, "manifests/") - 1, count(objects(s3), "manifests/"));
            assertEquals(before.size() - 1, objects(s3).size(), "delete removes the manifest only");
            assertEquals(3, b.run("clone", "ceph:vol@s1", "x").exit(), "a deleted snapshot is not found");
            assertEquals(3, a.run("remote", "delete", "ceph", "vol@s1").exit(), "deleting twice: not found");

            // dry runs: the default grace keeps everything this young; --grace 0 lists s1's objects; nothing deleted
            Map<String, Long> mid = objects(s3);
            JsonNode dryGrace = a.json("remote", "gc", "ceph");
            assertEquals(0, dryGrace.get("packs").asLong(), dryGrace.toString());
            assertTrue(dryGrace.get("youngKept").asLong() >= s1Packs, dryGrace.toString());
            JsonNode dry = a.json("remote", "gc", "ceph", "--grace", "0");
            assertFalse(dry.get("applied").asBoolean());
            assertEquals(s1Packs, dry.get("packs").asLong(), dry.toString());
            assertTrue(dry.get("listings").asLong() >= 1, dry.toString());
            assertTrue(a.ok("remote", "gc", "ceph", "--grace", "0").out().contains("would delete " + s1Packs + " packs"));
            assertEquals(mid, objects(s3), "a dry run deletes nothing");

            // a corrupted manifest stops the gc, dry run or not, and nothing is deleted
            put(s3, "manifests/vol@bad.json", "{\"format\":1,\"volume\":\"vol\",\"snapshot\":\"bad\",\"packs\":[".getBytes());
            Map<String, Long> withBad = objects(s3);
            for (String[] args : List.of(new String[] {"remote", "gc", "ceph", "--grace", "0"},
                    new String[] {"remote", "gc", "ceph", "--grace", "0", "--apply"})) {
                Proc.Result r = b.run(args);
                assertEquals(1, r.exit(), r.describe());
                assertTrue(r.err().contains("manifests/vol@bad.json") && r.err().contains("nothing deleted"), r.describe());
            }
            assertEquals(withBad, objects(s3), "a gc stopped by a corrupted manifest deletes nothing");
            assertEquals(0, count(withBad, "gc/leases/"), "the stopped gc released its lease");
            a.ok("remote", "delete", "ceph", "vol@bad");

            // a running push (its intent object) stops a gc: nothing deleted
            String intent = "gc/pushes/it-test.json";
            put(s3, intent, "{\"owner\":\"it\",\"snapshot\":\"vol@x\",\"started\":\"now\"}".getBytes());
            Map<String, Long> withIntent = objects(s3);
            Proc.Result stopped = b.run("remote", "gc", "ceph", "--grace", "0", "--apply");
            assertEquals(4, stopped.exit(), stopped.describe());
            assertTrue(stopped.err().contains("push"), stopped.describe());
            assertEquals(withIntent, objects(s3), "a gc that meets a running push deletes nothing");
            s3.deleteObject(d -> d.bucket(BUCKET).key(P + intent));

            // delete + gc frees s1's packs and listings, and only those
            Map<String, Long> pre = objects(s3);
            JsonNode gc = b.json("remote", "gc", "ceph", "--grace", "0", "--apply");
            assertTrue(gc.get("applied").asBoolean());
            assertEquals(s1Packs, gc.get("packs").asLong(), gc.toString());
            Map<String, Long> post = objects(s3);
            assertEquals(count(pre, "packs/") - s1Packs, count(post, "packs/"), post.toString());
            assertEquals(count(pre, "listings/") - gc.get("listings").asLong(), count(post, "listings/"));
            assertEquals(sum(pre, "packs/") - gc.get("packBytes").asLong(), sum(post, "packs/"));
            assertEquals(pre.size() - s1Packs - gc.get("listings").asLong(), post.size());
            for (JsonNode k : gc.get("keys")) {
                assertFalse(post.containsKey(k.asText()), k.asText());
            }
            JsonNode again = b.json("remote", "gc", "ceph", "--grace", "0");
            assertEquals(0, again.get("packs").asLong() + again.get("listings").asLong(), again.toString());
            // s2 is whole: cloned on b with an empty cache, every byte matches
            b.ok("clone", "ceph:vol@s2", "c2");
            b.ok("cache", "evict");
            assertSameFile(vol.resolve("B"), mb.resolve("c2/B"));

            // a push waits while a gc holds the lease (its intent is there meanwhile), and goes on once it is gone
            writeRandom(vol.resolve("C"), 1 << 20, rnd);
            a.ok("snapshot", "vol@s3");
            String lease = "{\"owner\":\"it\",\"token\":\"t\",\"acquired\":\"" + Instant.now() + "\",\"expires\":\""
                    + Instant.now().plusSeconds(3600) + "\"}";
            put(s3, "gc/leases/it.json", lease.getBytes());
            Path log = ws.dir("logs").resolve("push-s3.log");
            Process push = Command.of(Clonefs.launcher().toString(), "push", "vol@s3", "ceph").env(a.env()).start(log);
            Thread.sleep(8000);
            assertTrue(push.isAlive(), "the push did not wait for the gc's lease:\n" + Files.readString(log));
            Map<String, Long> waiting = objects(s3);
            assertEquals(1, count(waiting, "gc/pushes/"), "the waiting push's intent: " + waiting.keySet());
            assertFalse(waiting.containsKey(P + "manifests/vol@s3.json"));
            s3.deleteObject(d -> d.bucket(BUCKET).key(P + "gc/leases/it.json"));
            assertTrue(push.waitFor(3, TimeUnit.MINUTES), "the push did not go on once the lease was gone");
            assertEquals(0, push.exitValue(), Files.readString(log));
            assertEquals(0, count(objects(s3), "gc/pushes/"), "the push removed its intent");

            // a local import is not reused once its remote snapshot is deleted, nor when pushed again with other bytes
            b.ok("remote", "delete", "ceph", "vol@s2");
            Proc.Result gone = b.run("clone", "ceph:vol@s2", "c2b");
            assertEquals(3, gone.exit(), gone.describe());
            assertTrue(gone.err().contains("no longer lists"), gone.describe());
            a.ok("destroy", "vol@s2");
            Files.write(vol.resolve("B"), new byte[] {1, 2, 3});
            a.ok("snapshot", "vol@s2");
            a.json("push", "vol@s2", "ceph");
            Proc.Result other = b.run("clone", "ceph:vol@s2", "c2c");
            assertEquals(4, other.exit(), other.describe());
            assertTrue(other.err().contains("another push"), other.describe());
            b.ok("destroy", "c2");
            b.ok("destroy", "-r", "ceph.vol");
            b.ok("clone", "ceph:vol@s2", "c2d");
            assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(mb.resolve("c2d/B")));

            // the race: gc loops on b (s3's packs of the old B are garbage) while a pushes s4, b clones and
            // reads it, s4 is deleted and a pushes s5 (same tree: it reuses s4's packs, garbage now, by block id
            // unless a gc removed them first), and b clones and reads s5
            writeRandom(vol.resolve("D"), 4 << 20, rnd);
            a.ok("snapshot", "vol@s4");
            a.ok("remote", "delete", "ceph", "vol@s3");
            AtomicBoolean stop = new AtomicBoolean();
            List<String> gcFailures = new ArrayList<>();
            int[] runs = new int[2];
            Thread loop = new Thread(() -> {
                while (!stop.get()) {
                    Proc.Result r = b.run("remote", "gc", "ceph", "--grace", "0", "--apply");
                    if (r.exit() == 0) {
                        runs[0]++;
                    } else if (r.exit() == 4) {
                        runs[1]++; // met a push or another gc: nothing deleted
                    } else {
                        synchronized (gcFailures) {
                            gcFailures.add(r.describe());
                        }
                    }
                }
            }, "gc-loop");
            loop.start();
            try {
                JsonNode p4 = a.json("push", "vol@s4", "ceph");
                assertFalse(p4.get("alreadyPushed").asBoolean());
                b.ok("clone", "ceph:vol@s4", "c4");
                b.ok("cache", "evict");
                for (String f : List.of("C", "D")) {
                    assertSameFile(vol.resolve(f), mb.resolve("c4/" + f));
                }
                a.ok("remote", "delete", "ceph", "vol@s4");
                // a gc surely ran after the delete (the loop's or this one, retried while the loop holds its lease):
                // the packs of D, recorded by s4's push, are gone, so s5's push must upload D again
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
                Proc.Result own;
                do {
                    own = b.run("remote", "gc", "ceph", "--grace", "0", "--apply");
                } while (own.exit() == 4 && System.nanoTime() < deadline);
                assertEquals(0, own.exit(), own.describe());
                a.ok("snapshot", "vol@s5");
                JsonNode p5 = a.json("push", "vol@s5", "ceph");
                assertTrue(p5.get("uploadedBlocks").asLong() >= (4 << 20) / 8192, "D's blocks were uploaded again: " + p5);
                b.ok("clone", "ceph:vol@s5", "c5");
                b.ok("cache", "evict");
                for (String f : List.of("B", "C", "D")) {
                    assertSameFile(vol.resolve(f), mb.resolve("c5/" + f));
                }
            } finally {
                stop.set(true);
                loop.join(TimeUnit.MINUTES.toMillis(3));
            }
            assertEquals(List.of(), gcFailures);
            assertTrue(runs[0] >= 1, "no gc completed during the race: " + runs[0] + " ok, " + runs[1] + " stopped");
            System.out.printf("race: %d gc runs deleted, %d stopped by a push%n", runs[0], runs[1]);
            // after the race: a final gc, then s5 still whole from an empty cache
            b.json("remote", "gc", "ceph", "--grace", "0", "--apply");
            b.ok("cache", "evict");
            for (String f : List.of("B", "C", "D")) {
                assertSameFile(vol.resolve(f), mb.resolve("c5/" + f));
            }
            assertEquals(0, b.json("cache", "status").get("fetchErrors").asLong());
        }
    }

    /** Every object under the remote's prefix: key to size. */
    private static Map<String, Long> objects(S3Client s3) {
        Map<String, Long> out = new TreeMap<>();
        for (S3Object o : s3.listObjectsV2Paginator(r -> r.bucket(BUCKET).prefix(P)).contents()) {
            out.put(o.key(), o.size());
        }
        return out;
    }

    private static long count(Map<String, Long> objects, String kind) {
        return objects.keySet().stream().filter(k -> k.startsWith(P + kind)).count();
    }

    private static long sum(Map<String, Long> objects, String kind) {
        return objects.entrySet().stream().filter(e -> e.getKey().startsWith(P + kind)).mapToLong(Map.Entry::getValue).sum();
    }

    private static void put(S3Client s3, String rest, byte[] body) {
        s3.putObject(r -> r.bucket(BUCKET).key(P + rest), RequestBody.fromBytes(body));
    }

    private static void writeRandom(Path file, int size, Random rnd) throws IOException {
        byte[] buf = new byte[size];
        rnd.nextBytes(buf);
        Files.write(file, buf);
    }

    private static void assertSameFile(Path want, Path got) throws IOException {
        assertArrayEquals(Files.readAllBytes(want), Files.readAllBytes(got), got.toString());
    }
}
