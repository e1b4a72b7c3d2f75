package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Engine#diffExtents} against a brute-force compare of every file's block ids, after random changes on both sides. */
class SnapshotDiffTest {
    private static final int BS = 4096;

    @TempDir
    Path dir;

    @Test
    void diffEqualsBruteForceAndSkipsSharedNodes() {
        Engine.init(dir, BS);
        Random rnd = new Random(23);
        try (Engine e = Engine.open(dir)) {
            e.createVolume("prod");
            VolumeFs v = e.volume("prod");
            for (int f = 0; f < 4; f++) {
                InodeId ino = v.create(InodeId.ROOT, "f" + f, 0644, 0, 0).ino();
                byte[] data = new byte[2000 * BS];
                rnd.nextBytes(data);
                v.write(ino, 0, ByteBuffer.wrap(data));
            }
            e.snapshot("prod", "s0");
            e.cloneVolume("prod@s0", "dev");
            e.snapshot("dev", "same");
            List<ExtentDiff> none = new ArrayList<>();
            long full = e.diffExtents("prod@s0", "dev@same", none::add);
            assertEquals(List.of(), none);
            assertEquals(0, full, "a clone shares its root: nothing is read");

            VolumeFs dev = e.volume("dev");
            InodeId f1 = dev.resolve("f1");
            dev.write(f1, 17L * BS, ByteBuffer.wrap(new byte[BS])); // one block
            e.snapshot("dev", "one");
            List<ExtentDiff> one = new ArrayList<>();
            long read = e.diffExtents("prod@s0", "dev@one", one::add);
            assertEquals(1, one.size());
            assertEquals(new ExtentDiff(f1, 17, e.fileBlocks("prod@s0", f1)[17], e.fileBlocks("dev@one", f1)[17]), one.get(0));
            assertTrue(read <= 8, "one change reads one path per side, not the tree: " + read);

            for (int round = 0; round < 3; round++) {
                for (VolumeFs side : List.of(v, dev)) {
                    change(side, rnd);
                }
                e.snapshot("prod", "r" + round);
                e.snapshot("dev", "r" + round);
                for (String[] pair : new String[][] {{"prod@s0", "dev@r" + round}, {"prod@r" + round, "dev@r" + round},
                        {"dev@one", "dev@r" + round}, {"prod@r" + round, "prod@s0"}}) {
                    TreeSet<String> got = new TreeSet<>();
                    e.diffExtents(pair[0], pair[1], d -> got.add(d.ino().value() + ":" + d.index() + ":" + d.blockA() + ":" + d.blockB()));
                    assertEquals(bruteForce(e, pair[0], pair[1]), got, pair[0] + " vs " + pair[1]);
                }
            }
            assertThrows(ClonefsException.NotFound.class, () -> e.diffExtents("prod@s0", "dev@nope", d -> { }));
        }
    }

    /** Writes, overwrites, truncates, creates and unlinks at random. */
    private static void change(VolumeFs fs, Random rnd) {
        List<String> names = new ArrayList<>();
        fs.readdir(InodeId.ROOT).forEach(d -> names.add(d.name()));
        names.removeIf(n -> n.equals(".") || n.equals(".."));
        for (int i = 0; i < 40; i++) {
            String name = names.get(rnd.nextInt(names.size()));
            InodeId ino = fs.resolve(name);
            long size = fs.getattr(ino).size();
            int op = rnd.nextInt(10);
            if (op < 7) {
                byte[] b = new byte[BS * (1 + rnd.nextInt(3))];
                rnd.nextBytes(b);
                fs.write(ino, (long) rnd.nextInt((int) (size / BS) + 50) * BS, ByteBuffer.wrap(b));
            } else if (op == 7) {
                fs.truncate(ino, size / 2 + 100);
            } else if (op == 8) {
                String n = "new" + rnd.nextInt(1_000_000);
                InodeId c = fs.create(InodeId.ROOT, n, 0644, 0, 0).ino();
                fs.write(c, 0, ByteBuffer.wrap(new byte[BS * 5]));
                names.add(n);
            } else if (names.size() > 2) {
                fs.unlink(InodeId.ROOT, name);
                names.remove(name);
            }
        }
    }

    /** Every (ino, index) whose block differs, from the full extent lists of every file in either snapshot. */
    private static TreeSet<String> bruteForce(Engine e, String a, String b) {
        TreeSet<Long> inos = new TreeSet<>();
        for (String s : List.of(a, b)) {
            e.snapshotFs(s).readdir(InodeId.ROOT).forEach(d -> inos.add(d.ino().value()));
        }
        inos.remove(InodeId.ROOT.value());
        TreeSet<String> out = new TreeSet<>();
        for (long ino : inos) {
            long[] ba = e.fileBlocks(a, InodeId.of(ino));
            long[] bb = e.fileBlocks(b, InodeId.of(ino));
            for (int i = 0; i < Math.max(ba.length, bb.length); i++) {
                long x = i < ba.length ? ba[i] : -1;
                long y = i < bb.length ? bb[i] : -1;
                if (x != y) {
                    out.add(ino + ":" + i + ":" + x + ":" + y);
                }
            }
        }
        return out;
    }
}
