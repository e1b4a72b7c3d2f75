package io.clonefs.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.block.RemoteRef;
import io.clonefs.engine.FileType;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.SnapshotItem;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
import java.util.zip.GZIPInputStream;
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

    private static SnapshotItem.RemoteExtent extent(long ino, long index, int pack, int slot, byte[] sha256) {
        return new SnapshotItem.RemoteExtent(InodeId.of(ino), index, new RemoteRef(pack, slot, sha256));
    }

    private static final SnapshotItem.Super SUPER = new SnapshotItem.Super(6, 2);
    private static final SnapshotItem.Inode FILE = new SnapshotItem.Inode(InodeId.of(5), 0100640, 26, 27, 1, 9000, 2,
            1_000_000_001L, 2_000_000_002L, 3_000_000_003L, 0, new byte[0]);
    private static final SnapshotItem.Inode LINK = new SnapshotItem.Inode(InodeId.of(7), 0120777, 0, 0, 1, 4, 0, 1, 2, 3, 0,
            "d/f1".getBytes(StandardCharsets.UTF_8));
    private static final SnapshotItem.DirEntry ENTRY = new SnapshotItem.DirEntry(InodeId.ROOT, "a".getBytes(StandardCharsets.UTF_8),
            InodeId.of(5), FileType.REGULAR);
    private static final SnapshotItem.Orphan ORPHAN = new SnapshotItem.Orphan(InodeId.of(6));

    @Test
    void listingRoundTripsItemsAndExtentsInOrder() {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        w.item(SUPER);
        w.item(FILE);
        w.item(extent(5, 0, 0, 7, sha(1)));
        w.item(extent(5, 1, 1, 0, sha(2)));
        w.item(ENTRY);
        w.flush();
        w.flush(); // nothing more: no empty object
        assertEquals(1, objects.size());
        assertEquals(5, w.items());
        List<SnapshotItem> items = Listing.decode(objects.get(0), 2, "test");
        assertEquals(5, items.size());
        assertEquals(SUPER, items.get(0));
        assertEquals(FILE, items.get(1));
        SnapshotItem.RemoteExtent e = (SnapshotItem.RemoteExtent) items.get(2);
        assertEquals(InodeId.of(5), e.ino());
        assertEquals(0, e.index());
        assertEquals(0, e.ref().pack());
        assertEquals(7, e.ref().slot());
        assertArrayEquals(sha(1), e.ref().sha256());
        assertEquals(1, ((SnapshotItem.RemoteExtent) items.get(3)).ref().pack());
        assertEquals(ENTRY, items.get(4));
    }

    @Test
    void listingCarriesSpecialFilesWithTheirDeviceNumber() {
        byte[] rdev = java.nio.ByteBuffer.allocate(8).putLong((8L << 8) | 0x12 | (0x345L << 20)).array();
        SnapshotItem.Inode blk = new SnapshotItem.Inode(InodeId.of(8), 0060660, 0, 6, 1, 0, 0, 1, 2, 3, 0, rdev);
        SnapshotItem.Inode fifo = new SnapshotItem.Inode(InodeId.of(9), 0010644, 26, 26, 2, 0, 0, 1, 2, 3, 0, new byte[0]);
        List<SnapshotItem> want = new ArrayList<>(List.of(blk, fifo));
        FileType[] types = {FileType.FIFO, FileType.CHAR_DEVICE, FileType.BLOCK_DEVICE, FileType.SOCKET};
        for (FileType t : types) {
            want.add(new SnapshotItem.DirEntry(InodeId.ROOT, t.name().getBytes(StandardCharsets.UTF_8), InodeId.of(9), t));
        }
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        want.forEach(w::item);
        w.flush();
        assertEquals(want, Listing.decode(objects.get(0), 0, "test"));
    }

    /** The bytes of format 1, written out by hand from the layout in {@link Listing}'s comment. */
    @Test
    void listingRecordsKeepTheirFormat1Bytes() throws IOException {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        for (SnapshotItem it : List.of(SUPER, FILE, LINK, ENTRY, extent(5, 1, 1, 2, sha(3)), ORPHAN)) {
            w.item(it);
        }
        w.flush();
        ByteBuffer want = ByteBuffer.allocate(1000);
        want.putShort((short) 9).putLong(0).put((byte) 0).putInt(16).putLong(6).putLong(2);
        want.putShort((short) 9).putLong(5).put((byte) 1).putInt(64)
                .putInt(0100640).putInt(26).putInt(27).putInt(1).putLong(9000).putLong(2)
                .putLong(1_000_000_001L).putLong(2_000_000_002L).putLong(3_000_000_003L).putLong(0);
        want.putShort((short) 9).putLong(7).put((byte) 1).putInt(68)
                .putInt(0120777).putInt(0).putInt(0).putInt(1).putLong(4).putLong(0).putLong(1).putLong(2).putLong(3).putLong(0)
                .put("d/f1".getBytes(StandardCharsets.UTF_8));
        want.putShort((short) 10).putLong(1).put((byte) 2).put((byte) 'a').putInt(9).putLong(5).put((byte) 8);
        want.putShort((short) 17).putLong(5).put((byte) 3).putLong(1).putInt(1).putInt(2).put(sha(3));
        want.putShort((short) 17).putLong(0).put((byte) 4).putLong(6).putInt(0);
        byte[] raw;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(objects.get(0)))) {
            raw = in.readAllBytes();
        }
        assertArrayEquals(Arrays.copyOf(want.array(), want.position()), raw);
        assertEquals(List.of(SUPER, FILE, LINK, ENTRY, extent(5, 1, 1, 2, sha(3)), ORPHAN), Listing.decode(objects.get(0), 2, "t"));
    }

    @Test
    void listingSplitsAt8MiBUncompressedAndIteratesAcrossObjects() {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        int n = 300_000; // 300k extents of 59 bytes = 17.7 MB
        for (int i = 0; i < n; i++) {
            w.item(extent(9, i, 0, i % 512, sha(i)));
        }
        w.flush();
        assertEquals(3, objects.size());
        Iterator<SnapshotItem> it = Listing.items(objects.size(), i -> Listing.decode(objects.get(i), 1, "o" + i));
        int count = 0;
        while (it.hasNext()) {
            SnapshotItem.RemoteExtent item = (SnapshotItem.RemoteExtent) it.next();
            assertEquals(InodeId.of(9), item.ino());
            assertEquals(count, item.index());
            count++;
        }
        assertEquals(n, count);
    }

    @Test
    void listingRefusesCorruptObjects() {
        List<byte[]> objects = new ArrayList<>();
        Listing.Writer w = new Listing.Writer(objects::add);
        w.item(extent(5, 0, 3, 0, sha(1)));
        w.flush();
        assertThrows(ClonefsException.InvalidArgument.class, () -> Listing.decode(objects.get(0), 2, "x")); // pack 3 of 2
        byte[] raw = new byte[] {0, 5, 1, 2};
        assertThrows(ClonefsException.InvalidArgument.class, () -> Listing.decode(Listing.gzip(raw), 1, "x"));
        assertThrows(ClonefsException.InvalidArgument.class, () -> Listing.decode(new byte[] {1, 2, 3}, 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> w.item(new SnapshotItem.Extent(InodeId.of(1), 1, new BlockId(0))));
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
