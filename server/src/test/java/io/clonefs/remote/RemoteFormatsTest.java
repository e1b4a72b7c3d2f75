package io.clonefs.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.engine.ImportItem;
import io.clonefs.metadata.Keys;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoteFormatsTest {
    @TempDir
    Path dir;

    private static byte[] sha(int seed) {
        byte[] b = new byte[32];
        Arrays.fill(b, (byte) seed);
        return b;
    }

    @Test
    void listingRoundTripsItemsAndExtentsInOrder() {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        w.item(Keys.superKey(), new byte[] {1, 2, 3});
        w.item(Keys.inode(5), new byte[100]);
        w.extent(Keys.extent(5, 0), 0, 7, sha(1));
        w.extent(Keys.extent(5, 1), 1, 0, sha(2));
        w.item(Keys.dirent(1, "a".getBytes()), new byte[0]);
        w.flush();
        w.flush(); // nothing more: no empty object
        assertEquals(1, objects.size());
        assertEquals(5, w.items());
        List<ImportItem> items = Listing.decode(objects.get(0), 2, "test");
        assertEquals(5, items.size());
        assertArrayEquals(Keys.superKey(), items.get(0).key());
        assertArrayEquals(new byte[] {1, 2, 3}, items.get(0).value());
        assertNull(items.get(0).ref());
        assertArrayEquals(Keys.extent(5, 0), items.get(2).key());
        assertEquals(0, items.get(2).ref().pack());
        assertEquals(7, items.get(2).ref().slot());
        assertArrayEquals(sha(1), items.get(2).ref().sha256());
        assertEquals(1, items.get(3).ref().pack());
        assertEquals(0, items.get(4).value().length);
    }

    @Test
    void listingSplitsAt8MiBUncompressedAndIteratesAcrossObjects() {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        int n = 300_000; // 300k extents of 59 bytes = 17.7 MB
        for (int i = 0; i < n; i++) {
            w.extent(Keys.extent(9, i), 0, i % 512, sha(i));
        }
        w.flush();
        assertEquals(3, objects.size());
        Iterator<ImportItem> it = Listing.items(objects.size(), i -> Listing.decode(objects.get(i), 1, "o" + i));
        int count = 0;
        while (it.hasNext()) {
            ImportItem item = it.next();
            assertArrayEquals(Keys.extent(9, count), item.key());
            count++;
        }
        assertEquals(n, count);
    }

    @Test
    void listingRefusesCorruptObjects() {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        w.extent(Keys.extent(5, 0), 3, 0, sha(1));
        w.flush();
        assertThrows(ClonefsException.InvalidArgument.class, () -> Listing.decode(objects.get(0), 2, "x")); // pack 3 of 2
        byte[] raw = new byte[] {0, 5, 1, 2};
        assertThrows(ClonefsException.InvalidArgument.class, () -> Listing.decode(Listing.gzip(raw), 1, "x"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Listing.decode(new byte[] {1, 2, 3}, 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> w.item(Keys.extent(1, 1), new byte[8]));
    }

    @Test
    void manifestRoundTripsAndRefusesOtherFormats() {
        Manifest m = new Manifest(Manifest.FORMAT, "db", "s1", 8192, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z",
                List.of("p/packs/aa", "p/packs/bb"), List.of(new Manifest.ListingObject("p/listings/cc", "cc", 10)),
                new Manifest.Counts(10, 4, 4 * 8192, 8192, 1));
        Manifest back = Manifest.parse(m.toJson(), "m");
        assertEquals(m, back);
        String other = new String(m.toJson()).replace("\"format\" : 1", "\"format\" : 99");
        assertThrows(ClonefsException.InvalidArgument.class, () -> Manifest.parse(other.getBytes(), "m"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Manifest.parse("nope".getBytes(), "m"));
    }

    @Test
    void journalResumesSameSnapshotIgnoresTornTailAndResetsForAnotherDataset() throws IOException {
        Path f = dir.resolve("push-db@s1.journal");
        try (PushJournal j = PushJournal.open(f, 42, 8192, "db@s1")) {
            assertTrue(j.packs().isEmpty());
            j.append(new PushJournal.PackRecord("p/packs/a", new long[] {10, 11}, new byte[][] {sha(1), sha(2)}));
            j.append(new PushJournal.PackRecord("p/packs/b", new long[] {12}, new byte[][] {sha(3)}));
        }
        // a torn record at the end (a crash mid-append)
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0, 0, 0, 40, 1, 2, 3}));
        }
        try (PushJournal j = PushJournal.open(f, 42, 8192, "db@s1")) {
            assertEquals(2, j.packs().size());
            assertEquals("p/packs/a", j.packs().get(0).key());
            assertArrayEquals(new long[] {10, 11}, j.packs().get(0).blockIds());
            assertArrayEquals(sha(2), j.packs().get(0).sha256()[1]);
            j.append(new PushJournal.PackRecord("p/packs/c", new long[] {13}, new byte[][] {sha(4)}));
        }
        try (PushJournal j = PushJournal.open(f, 42, 8192, "db@s1")) {
            assertEquals(3, j.packs().size()); // the torn tail was cut before appending
        }
        try (PushJournal j = PushJournal.open(f, 43, 8192, "db@s1")) {
            assertTrue(j.packs().isEmpty(), "another dataset id: start over");
        }
        try (PushJournal j = PushJournal.open(f, 43, 8192, "db@s1")) {
            assertTrue(j.packs().isEmpty());
            j.delete();
        }
        assertFalse(Files.exists(f));
    }

    @Test
    void pushedIndexRoundTrips() throws IOException {
        PushedIndex pi = new PushedIndex(7, "db@s1", 8192, List.of("k0", "k1"), new long[] {1, 2, 3}, new int[] {0, 1, 1},
                new int[] {0, 0, 5}, new byte[][] {sha(1), sha(2), sha(3)});
        Path f = dir.resolve("pushed").resolve("7");
        pi.write(f);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        Files.writeString(dir.resolve("pushed").resolve("8"), "garbage");
        List<PushedIndex> all = PushedIndex.readAll(dir.resolve("pushed"));
        assertEquals(1, all.size());
        PushedIndex b = all.get(0);
        assertEquals(7, b.datasetId());
        assertEquals("db@s1", b.snapshot());
        assertEquals(List.of("k0", "k1"), b.packs());
        assertArrayEquals(new long[] {1, 2, 3}, b.blockIds());
        assertArrayEquals(new int[] {0, 1, 1}, b.packIndex());
        assertArrayEquals(new int[] {0, 0, 5}, b.slots());
        assertArrayEquals(sha(3), b.sha256()[2]);
    }

    @Test
    void configValidatesAndNormalises() {
        RemoteConfig c = new RemoteConfig("ceph-1", "http://127.0.0.1:7480", "clonefs", "/prod/db/", null);
        assertEquals("prod/db", c.prefix());
        assertEquals("us-east-1", c.region());
        assertEquals("prod/db/packs/ab", c.packKey("ab"));
        assertEquals("prod/db/manifests/v@s.json", c.manifestKey("v", "s"));
        assertEquals("listings/cd", new RemoteConfig("r", "https://s3.example.com", "b-1", "", "eu-west-1").listingKey("cd"));
        for (String bad : new String[] {"", "a.b", "a:b", "-a", "x".repeat(33), "a b"}) {
            assertThrows(ClonefsException.InvalidArgument.class, () -> RemoteConfig.checkName(bad), bad);
        }
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "ftp://h", "bucket", "", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "localhost:7480", "bucket", "", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", null, "bucket", "", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "http://h", "Bucket", "", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "http://h", "ab", "", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "http://h", "bucket", "a//b", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "http://h", "bucket", "a b", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> new RemoteConfig("r", "http://h", "bucket", "", "EU West"));
    }

    @Test
    void credentialsFromFileNeedMode600AndBothKeys() throws IOException {
        Path f = dir.resolve("keys");
        Files.writeString(f, "# test\n[default]\naws_access_key_id = AK\naws_secret_access_key=SK\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () -> Credentials.readFile(f));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        Credentials c = Credentials.readFile(f);
        assertEquals("AK", c.accessKey());
        assertEquals("SK", c.secretKey());
        assertFalse(c.toString().contains("SK"));
        assertEquals(c, Credentials.parse(c.format(), "x"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Credentials.parse("aws_access_key_id=AK\n", "x"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Credentials.parse("garbage\n", "x"));
        assertThrows(ClonefsException.NotFound.class, () -> Credentials.readFile(dir.resolve("none")));
        assertEquals("A", Credentials.fromEnvironment(Map.of("AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S")).accessKey());
        assertThrows(ClonefsException.InvalidArgument.class, () -> Credentials.fromEnvironment(Map.of()));
    }

    @Test
    void remotesStoreRefusesDuplicatesAndStoresNothingWhenTheProbeFails() throws IOException {
        Remotes rs = new Remotes(dir);
        RemoteConfig c = new RemoteConfig("ceph", "http://127.0.0.1:1", "bucket", "p", null);
        Credentials k = new Credentials("AK", "SK");
        assertThrows(ClonefsException.NotFound.class, () -> rs.add(c, k, (x, y) -> {
            throw new ClonefsException.NotFound("no bucket");
        }));
        assertTrue(rs.list().isEmpty());
        assertFalse(Files.exists(rs.dir("ceph").resolve("config.json")));
        rs.add(c, k, (x, y) -> { });
        assertEquals(List.of(c), rs.list());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(rs.dir("ceph").resolve("credentials"))));
        assertEquals(k, rs.get("ceph").credentials());
        assertThrows(ClonefsException.AlreadyExists.class, () -> rs.add(c, k, (x, y) -> { }));
        ClonefsException e = assertThrows(ClonefsException.NotFound.class, () -> rs.get("other"));
        assertTrue(e.getMessage().contains("ceph"), e.getMessage());
        rs.remove("ceph");
        assertTrue(rs.list().isEmpty());
        assertThrows(ClonefsException.NotFound.class, () -> rs.remove("ceph"));
        assertNotNull(rs.journal("ceph", "v@s"));
    }

    @Test
    void localVolumeNamesOfImports() {
        assertEquals("ceph.db", RemoteService.localVolume("ceph", "db"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> RemoteService.localVolume("x".repeat(32), "y".repeat(40)));
    }
}
