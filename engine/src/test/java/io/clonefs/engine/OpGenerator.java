package io.clonefs.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Draws random operations from the model's current state, so that most of them are meaningful
 * (existing paths, block-boundary offsets) and some are expected to fail (EEXIST, ENOTEMPTY,
 * EINVAL, EBUSY, EROFS...). Deterministic: the same seed and the same model give the same ops.
 */
final class OpGenerator {
    private static final String[] NAMES = {"a", "b", "c", "d", "e1", "f.txt", "g-h", "base", "pg_wal", "é"};

    private final Random rnd;
    private final int blockSize;
    private final boolean datasetOps;
    private final String prefix;
    private int volumeCounter;
    private int snapshotCounter;
    /** Volumes created or cloned so far (the tests require a minimum). */
    int volumesMade;

    /**
     * @param datasetOps also generate volume, snapshot, clone, destroy and reopen ops
     * @param prefix     prefix of generated volume names
     */
    OpGenerator(long seed, int blockSize, boolean datasetOps, String prefix) {
        this.rnd = new Random(seed);
        this.blockSize = blockSize;
        this.datasetOps = datasetOps;
        this.prefix = prefix;
    }

    Random random() {
        return rnd;
    }

    Op next(Model m) {
        if (datasetOps) {
            Op d = datasetOp(m);
            if (d != null) {
                return d;
            }
        }
        List<String> vols = new ArrayList<>(m.volumes.keySet());
        if (vols.isEmpty()) {
            throw new IllegalStateException("no volume to work on");
        }
        String vol = vols.get(rnd.nextInt(vols.size()));
        if (datasetOps && !m.snapshots.isEmpty() && rnd.nextInt(100) == 0) {
            // a write into a snapshot: must be refused with EROFS
            List<String> snaps = new ArrayList<>(m.snapshots.keySet());
            String s = snaps.get(rnd.nextInt(snaps.size()));
            return fileOp(m.snapshots.get(s).root, s);
        }
        return fileOp(m.volumes.get(vol).root, vol);
    }

    private Op datasetOp(Model m) {
        int p = rnd.nextInt(1000);
        List<String> vols = new ArrayList<>(m.volumes.keySet());
        List<String> snaps = new ArrayList<>(m.snapshots.keySet());
        if (vols.isEmpty() || (vols.size() < 8 && p < 25)) {
            volumesMade++;
            return Op.of(Op.Kind.CREATE_VOLUME, prefix + "v" + volumeCounter++);
        }
        if (p < 60) {
            String v = vols.get(rnd.nextInt(vols.size()));
            String snap;
            if (rnd.nextInt(20) == 0 && !snaps.isEmpty()) {
                String other = pickFrom(snaps);
                snap = v + other.substring(other.indexOf('@')); // maybe a name in use: EEXIST
            } else {
                snap = v + "@s" + snapshotCounter++;
            }
            return new Op(Op.Kind.SNAPSHOT, v, snap, null, 0, 0, 0, 0, false);
        }
        if (p < 90 && !snaps.isEmpty()) {
            String s = pickFrom(snaps);
            String target;
            int q = rnd.nextInt(30);
            if (q == 0) {
                target = pickFrom(vols); // exists: EEXIST
            } else if (q == 1) {
                s = s + "x"; // no such snapshot: ENOENT
                target = prefix + "v" + volumeCounter++;
            } else {
                target = prefix + "v" + volumeCounter++;
                volumesMade++;
            }
            return new Op(Op.Kind.CLONE, target, s, null, 0, 0, 0, 0, false);
        }
        if (p < 110 && vols.size() + snaps.size() > 2) {
            List<String> all = new ArrayList<>(vols);
            all.addAll(snaps);
            return Op.of(Op.Kind.DESTROY, pickFrom(all)).withFlag(rnd.nextInt(3) == 0);
        }
        if (p < 115) {
            return Op.of(Op.Kind.REOPEN, "");
        }
        return null;
    }

    private String pickFrom(List<String> l) {
        return l.get(rnd.nextInt(l.size()));
    }

    private static final FileType[] SPECIAL = {FileType.FIFO, FileType.CHAR_DEVICE, FileType.BLOCK_DEVICE, FileType.SOCKET};

    private Op fileOp(Model.Node root, String vol) {
        List<String> all = Model.paths(root);
        List<String> files = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        dirs.add("");
        for (String p : all) {
            switch (Model.lookup(root, p).type) {
                case REGULAR -> files.add(p);
                case DIRECTORY -> dirs.add(p);
                default -> {
                }
            }
        }
        int p = rnd.nextInt(100);
        if (files.isEmpty() || p < 10) {
            return Op.file(Op.Kind.CREATE, vol, newPath(dirs)).withMode(rnd.nextBoolean() ? 0644 : 0600);
        }
        if (p < 45) {
            String f = pickFrom(files);
            return Op.file(Op.Kind.WRITE, vol, f).withWrite(offset(Model.lookup(root, f).data.length),
                    length(), rnd.nextLong());
        }
        if (p < 55) {
            String f = pickFrom(files);
            return Op.file(Op.Kind.TRUNCATE, vol, f).withWrite(truncateSize(Model.lookup(root, f).data.length), 0, 0);
        }
        if (p < 61) {
            return Op.file(Op.Kind.MKDIR, vol, newPath(dirs)).withMode(rnd.nextBoolean() ? 0755 : 0700);
        }
        if (all.isEmpty()) {
            return Op.file(Op.Kind.CREATE, vol, newPath(dirs)).withMode(0644);
        }
        if (p < 70) {
            String src = pickFrom(all);
            String dst = rnd.nextBoolean() ? pickFrom(all) : newPath(dirs);
            return Op.file(Op.Kind.RENAME, vol, src).withPath2(dst);
        }
        if (p < 77) {
            return Op.file(Op.Kind.UNLINK, vol, rnd.nextInt(4) == 0 ? pickFrom(all) : pickFrom(files));
        }
        if (p < 81) {
            return Op.file(Op.Kind.RMDIR, vol, rnd.nextInt(4) == 0 || dirs.size() == 1 ? pickFrom(all)
                    : dirs.get(1 + rnd.nextInt(dirs.size() - 1)));
        }
        if (p < 88) {
            String src = rnd.nextInt(6) == 0 ? pickFrom(all) : pickFrom(files);
            return Op.file(Op.Kind.LINK, vol, src).withPath2(rnd.nextInt(5) == 0 ? pickFrom(all) : newPath(dirs));
        }
        if (p < 91) {
            // a FIFO, device or socket: a name and attributes, no data (WRITE/TRUNCATE pick files only)
            FileType t = SPECIAL[rnd.nextInt(SPECIAL.length)];
            long rdev = t.device() ? ((long) rnd.nextInt(4096) << 8 | rnd.nextInt(256)) : 0;
            return new Op(Op.Kind.MKNOD, vol, newPath(dirs), null, rdev, 0, 0, t.bits() | (rnd.nextBoolean() ? 0644 : 0600),
                    false);
        }
        if (p < 95) {
            String target = rnd.nextBoolean() ? pickFrom(all) : "../x/" + "t".repeat(rnd.nextInt(100));
            return Op.file(Op.Kind.SYMLINK, vol, newPath(dirs)).withPath2(target);
        }
        return Op.file(Op.Kind.CHMOD, vol, pickFrom(all)).withMode(rnd.nextInt(010000));
    }

    private String newPath(List<String> dirs) {
        String d = pickFrom(dirs);
        String name;
        int q = rnd.nextInt(100);
        if (q == 0) {
            name = "L".repeat(255); // longest valid name
        } else if (q == 1) {
            name = "M".repeat(256); // ENAMETOOLONG
        } else {
            name = NAMES[rnd.nextInt(NAMES.length)] + (rnd.nextInt(3) == 0 ? "" : Integer.toString(rnd.nextInt(6)));
        }
        return d.isEmpty() ? name : d + "/" + name;
    }

    private long offset(int size) {
        int q = rnd.nextInt(100);
        if (q < 5 && size < (2 << 20)) {
            return (1 << 20) + rnd.nextInt(1 << 20); // far past EOF: a hole
        }
        if (q < 35) {
            long b = rnd.nextInt(size / blockSize + 3);
            return Math.max(0, b * blockSize + rnd.nextInt(17) - 8); // around a block boundary
        }
        if (q < 45) {
            return size; // append
        }
        return rnd.nextInt(size + 2 * blockSize + 1);
    }

    private int length() {
        int q = rnd.nextInt(100);
        if (q < 2) {
            return 1; // (zero-length writes are covered by EngineContractTest)
        }
        if (q < 15) {
            return blockSize;
        }
        if (q < 25) {
            return 1 + rnd.nextInt(8);
        }
        if (q < 30) {
            return blockSize * (2 + rnd.nextInt(6)) + rnd.nextInt(3) - 1;
        }
        if (q < 33) {
            // a long run (the kernel's writeback sends up to 1 MiB): across holes, owned and
            // shared blocks and tree leaves (about 140 extents each)
            return blockSize * (16 + rnd.nextInt(150)) + rnd.nextInt(3) - 1;
        }
        return 1 + rnd.nextInt(3 * blockSize);
    }

    private long truncateSize(int size) {
        int q = rnd.nextInt(10);
        if (q == 0) {
            return 0;
        }
        if (q < 5) {
            return size == 0 ? 0 : rnd.nextInt(size + 1);
        }
        if (q < 7) {
            return size;
        }
        return size + 1 + rnd.nextInt(3 * blockSize);
    }
}
