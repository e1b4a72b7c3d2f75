package io.clonefs.engine;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Reads engine trees in full and compares them with the {@link Model}. */
final class Trees {
    private Trees() {
    }

    /** Lengths of the reads {@link #readAll} makes in turn: whole runs of blocks, unaligned pieces, single bytes. */
    private static final int[] READ_LENGTHS = {256 * 1024, 8193, 1, 70_001, 3 * 4096 + 5, 1 << 20};

    /**
     * Reads a whole regular file in reads of varied lengths and alignments, the last one asking
     * for more than is left (checks that each read returns what is there up to EOF, and that a
     * read at EOF returns 0).
     */
    static byte[] readAll(VolumeFs fs, InodeId ino, long size) {
        if (size > Integer.MAX_VALUE - 16) {
            throw new AssertionError("file too large for the tests: " + size);
        }
        byte[] out = new byte[(int) size];
        int pos = 0;
        int turn = (int) (size % READ_LENGTHS.length);
        while (pos < size) {
            ByteBuffer b = ByteBuffer.allocate(READ_LENGTHS[turn++ % READ_LENGTHS.length]);
            int n = fs.read(ino, pos, b);
            int expected = (int) Math.min(b.capacity(), size - pos);
            if (n != expected) {
                throw new AssertionError("read of " + b.capacity() + " bytes of " + ino + " at " + pos + " returned " + n
                        + ", not " + expected + " (size " + size + ")");
            }
            if (b.position() != n) {
                throw new AssertionError("read of " + ino + " returned " + n + " but advanced the buffer by " + b.position());
            }
            System.arraycopy(b.array(), 0, out, pos, n);
            pos += n;
        }
        int atEof = fs.read(ino, size, ByteBuffer.allocate(16));
        if (atEof != 0) {
            throw new AssertionError("read of " + ino + " at EOF " + size + " returned " + atEof);
        }
        return out;
    }

    /** Asserts that the engine's pool holds exactly the model's volumes and snapshots, tree by tree. */
    static void assertPool(Model model, Engine engine) {
        TreeSet<String> vols = new TreeSet<>();
        engine.volumes().forEach(v -> vols.add(v.name()));
        TreeSet<String> snaps = new TreeSet<>();
        engine.snapshots().forEach(s -> snaps.add(s.name()));
        assertEq(new TreeSet<>(model.volumes.keySet()), vols, "volumes of the pool");
        assertEq(new TreeSet<>(model.snapshots.keySet()), snaps, "snapshots of the pool");
        for (VolumeInfo v : engine.volumes()) {
            assertEq(model.volumes.get(v.name()).origin, v.origin(), "origin of " + v.name());
        }
        for (SnapshotInfo s : engine.snapshots()) {
            assertEq(new TreeSet<>(model.clonesOf(s.name())), new TreeSet<>(s.clones()), "clones of " + s.name());
        }
        model.volumes.forEach((k, v) -> assertTree(v.root, engine.volume(k)));
        model.snapshots.forEach((k, v) -> assertTree(v.root, engine.snapshotFs(k)));
    }

    /** Asserts that a dataset of the engine is exactly the model's tree. */
    static void assertDataset(Model model, Engine engine, String dataset) {
        Model.Node root = model.tree(dataset);
        if (root == null) {
            boolean present = Names.isSnapshotName(dataset)
                    ? engine.snapshots().stream().anyMatch(s -> s.name().equals(dataset))
                    : engine.volumes().stream().anyMatch(v -> v.name().equals(dataset));
            if (present) {
                throw new AssertionError(dataset + " exists in the engine but not in the model");
            }
            return;
        }
        assertTree(root, Names.isSnapshotName(dataset) ? engine.snapshotFs(dataset) : engine.volume(dataset));
    }

    static void assertTree(Model.Node root, VolumeFs fs) {
        InodeAttr ra = fs.getattr(InodeId.ROOT);
        assertEq(FileType.DIRECTORY, ra.type(), fs.name() + ": type of the root");
        assertEq(Integer.toOctalString(root.mode), Integer.toOctalString(ra.mode()), fs.name() + ": mode of the root");
        compareDir(root, InodeId.ROOT, fs, "", new IdentityHashMap<>(), new HashMap<>());
    }

    private static void compareDir(Model.Node dir, InodeId ino, VolumeFs fs, String path,
                                   IdentityHashMap<Model.Node, InodeId> seen, Map<InodeId, Model.Node> seenIno) {
        String where = fs.name() + ":/" + path;
        List<DirEntry> entries = fs.readdir(ino);
        List<String> names = new ArrayList<>();
        entries.forEach(e -> names.add(e.name()));
        assertEq(new ArrayList<>(dir.children.keySet()), names, where + ": directory entries (in bytewise order)");
        for (DirEntry e : entries) {
            Model.Node n = dir.children.get(e.name());
            String p = path.isEmpty() ? e.name() : path + "/" + e.name();
            String w = fs.name() + ":/" + p;
            assertEq(n.type, e.type(), w + ": type in readdir");
            InodeId prev = seen.get(n);
            if (prev != null) {
                assertEq(prev, e.ino(), w + ": a hard link must name the same inode as its other links");
            } else {
                Model.Node other = seenIno.get(e.ino());
                if (other != null) {
                    throw new AssertionError(w + ": " + e.ino() + " is shared with a different file");
                }
                seen.put(n, e.ino());
                seenIno.put(e.ino(), n);
            }
            assertEq(e.ino(), fs.lookup(ino, e.name()), w + ": lookup vs readdir");
            InodeAttr a = fs.getattr(e.ino());
            assertEq(e.ino(), a.ino(), w + ": getattr ino");
            assertEq(n.type, a.type(), w + ": type");
            if (n.type != FileType.SYMLINK) {
                assertEq(Integer.toOctalString(n.mode), Integer.toOctalString(a.mode()), w + ": mode");
            }
            switch (n.type) {
                case DIRECTORY -> compareDir(n, e.ino(), fs, p, seen, seenIno);
                case SYMLINK -> {
                    assertEq(n.target, fs.readlink(e.ino()), w + ": symlink target");
                    assertEq(n.size(), a.size(), w + ": symlink size");
                    assertEq(n.nlink, a.nlink(), w + ": nlink");
                }
                case FIFO, CHAR_DEVICE, BLOCK_DEVICE, SOCKET -> {
                    assertEq(n.nlink, a.nlink(), w + ": nlink");
                    assertEq(0L, a.size(), w + ": size");
                    assertEq(n.rdev, a.rdev(), w + ": rdev");
                }
                case REGULAR -> {
                    assertEq(n.nlink, a.nlink(), w + ": nlink");
                    assertEq((long) n.data.length, a.size(), w + ": size");
                    if (prev == null) {
                        byte[] got = readAll(fs, e.ino(), a.size());
                        int diff = Arrays.mismatch(n.data, got);
                        if (diff >= 0) {
                            throw new AssertionError(w + ": contents differ first at byte " + diff + " of " + got.length
                                    + " (expected " + (n.data[diff] & 0xff) + ", got " + (got[diff] & 0xff) + ")");
                        }
                    }
                }
            }
        }
    }

    /** Reads an engine tree into model nodes (hard links become shared nodes). */
    static Model.Node load(VolumeFs fs) {
        Model.Node root = Model.newRoot();
        root.mode = fs.getattr(InodeId.ROOT).mode();
        loadDir(fs, InodeId.ROOT, root, new HashMap<>());
        return root;
    }

    private static void loadDir(VolumeFs fs, InodeId ino, Model.Node dir, Map<InodeId, Model.Node> seen) {
        for (DirEntry e : fs.readdir(ino)) {
            Model.Node n = seen.get(e.ino());
            if (n == null) {
                InodeAttr a = fs.getattr(e.ino());
                n = new Model.Node(a.type(), a.mode());
                n.mode = a.mode();
                n.nlink = a.nlink();
                seen.put(e.ino(), n);
                switch (a.type()) {
                    case DIRECTORY -> loadDir(fs, e.ino(), n, seen);
                    case SYMLINK -> n.target = fs.readlink(e.ino());
                    case REGULAR -> n.data = readAll(fs, e.ino(), a.size());
                    default -> n.rdev = a.rdev();
                }
            }
            dir.children.put(e.name(), n);
        }
    }

    static void assertEq(Object expected, Object actual, String what) {
        if (!java.util.Objects.equals(expected, actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but was <" + actual + ">");
        }
    }
}
