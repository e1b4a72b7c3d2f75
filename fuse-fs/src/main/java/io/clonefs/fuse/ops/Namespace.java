package io.clonefs.fuse.ops;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.engine.DirEntry;
import io.clonefs.engine.Engine;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.Names;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.engine.VolumeFs;
import io.clonefs.engine.VolumeInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Maps the paths libfuse passes ({@code "/"}, {@code "/vol/a/b"},
 * {@code "/.snapshots/vol@snap/a"}) to a dataset ({@link VolumeFs}) and an inode, and numbers
 * inodes so that {@code st_ino} is unique across the whole mount.
 *
 * <p>Datasets are cached by name; the cache entry remembers the engine's id of the volume or
 * snapshot, so that a dataset destroyed and re-created under the same name is noticed when its
 * root is looked up again ({@link #refresh}) or the mount root is listed.
 *
 * <p>Inode numbers: {@code st_ino = slot << 40 | ino}, where {@code slot} is given once per
 * dataset id for the life of the mount (a clone shares inode numbers with its origin inside the
 * engine, so the slot keeps them apart). Slot 0 holds the synthetic directories: the mount root
 * carries a per-mount marker number (the mount probe checks it) and {@code .snapshots} is 2.
 *
 * <p>Thread-safe: concurrent maps only, no lock.
 */
final class Namespace {
    static final String SNAPSHOTS = ".snapshots";
    static final long SNAPSHOTS_INO = 2;
    private static final int SLOT_SHIFT = 40;
    private static final long INO_MASK = (1L << SLOT_SHIFT) - 1;

    /** A volume or snapshot as the adapter caches it. */
    record Dataset(String name, VolumeFs fs, long id, long slotBits) {
        /** The {@code st_ino} of one of this dataset's inodes. */
        long stIno(InodeId ino) {
            return slotBits | (ino.value() & INO_MASK);
        }

        boolean isSnapshot() {
            return Names.isSnapshotName(name);
        }
    }

    enum Kind { ROOT, SNAPSHOTS, INODE }

    /** An existing object: a synthetic directory, or an inode of a dataset. */
    record Node(Kind kind, Dataset dataset, InodeId ino) {
        /** The dataset and inode; refuses synthetic directories with {@code errno}. */
        Node requireInode(Errno errno, String what) {
            if (kind != Kind.INODE) {
                throw FuseCalls.fail(errno, what + " is not allowed on the synthetic directory");
            }
            return this;
        }
    }

    /** A directory entry to create or remove: the parent directory and the name in it. */
    record Entry(Dataset dataset, InodeId dir, String name) {
    }

    private final Engine engine;
    private final long rootIno;
    private final ConcurrentHashMap<String, Dataset> datasets = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> slots = new ConcurrentHashMap<>();
    private final AtomicInteger nextSlot = new AtomicInteger(1);
    /** Engine id of each dataset name as last shown to the kernel (never evicted). */
    private final ConcurrentHashMap<String, Long> servedIds = new ConcurrentHashMap<>();

    Namespace(Engine engine, long rootIno) {
        this.engine = engine;
        this.rootIno = rootIno;
    }

    Engine engine() {
        return engine;
    }

    /** Resolves an existing path (not following a final symlink). */
    Node node(String path) {
        String p = strip(path);
        if (p.isEmpty()) {
            return new Node(Kind.ROOT, null, null);
        }
        int slash = p.indexOf('/');
        String first = slash < 0 ? p : p.substring(0, slash);
        String rest = slash < 0 ? "" : p.substring(slash + 1);
        Dataset d;
        if (first.equals(SNAPSHOTS)) {
            if (rest.isEmpty()) {
                return new Node(Kind.SNAPSHOTS, null, null);
            }
            int s2 = rest.indexOf('/');
            String snap = s2 < 0 ? rest : rest.substring(0, s2);
            rest = s2 < 0 ? "" : rest.substring(s2 + 1);
            d = dataset(snap, true);
        } else {
            d = dataset(first, false);
        }
        InodeId ino = rest.isEmpty() ? InodeId.ROOT : d.fs().resolve(rest);
        return new Node(Kind.INODE, d, ino);
    }

    /**
     * Splits a path into its parent directory (which must exist inside a dataset) and its last
     * name. Entries directly in the mount root or in {@code .snapshots} are refused: volumes and
     * snapshots are made with the clonefs commands, not with mkdir.
     */
    Entry entry(String path) {
        String p = strip(path);
        int slash = p.lastIndexOf('/');
        if (slash < 0) {
            throw FuseCalls.fail(Errno.EPERM, "cannot create or remove '" + p
                    + "' in the mount root: use the clonefs commands for volumes");
        }
        String parent = p.substring(0, slash);
        String name = p.substring(slash + 1);
        if (parent.equals(SNAPSHOTS)) {
            throw FuseCalls.fail(Errno.EPERM, "cannot create or remove '" + name
                    + "' in .snapshots: use the clonefs commands for snapshots");
        }
        Node dir = node("/" + parent);
        return new Entry(dir.dataset(), dir.ino(), name);
    }

    /**
     * Checks a dataset root against the engine; called for every getattr of a volume or snapshot
     * directory, which is how libfuse answers the kernel's lookups and revalidations of it.
     *
     * <p>A dataset destroyed and re-created under the same name (a clone refreshed from a new
     * snapshot) must not be served from the kernel's caches of the old one: libfuse 2 would give
     * the same node ids to the same paths, and the kernel would keep the old files' pages
     * ({@code kernel_cache}). So the first getattr that sees a new engine id answers ENOENT:
     * the kernel then invalidates the dentry and everything below it and looks the name up
     * again, which succeeds with the new dataset. (A plain {@code stat} racing with that first
     * revalidation may see this ENOENT once.) {@code replaced} is told the name and the new id
     * first, so that the kernel's pages of the old dataset's files can be dropped too (a file
     * still open keeps its kernel inode).
     */
    Node refresh(Node node, String path, BiConsumer<String, Long> replaced) {
        if (node.kind() != Kind.INODE || !InodeId.ROOT.equals(node.ino())) {
            return node;
        }
        Dataset cached = node.dataset();
        long id;
        try {
            id = cached.isSnapshot() ? engine.snapshotInfo(cached.name()).id() : engine.volumeInfo(cached.name()).id();
        } catch (ClonefsException.NotFound e) {
            datasets.remove(cached.name(), cached);
            throw e;
        }
        Long served = servedIds.put(cached.name(), id);
        if (id != cached.id()) {
            datasets.remove(cached.name(), cached);
        }
        if (served != null && served != id) {
            replaced.accept(cached.name(), id);
            throw new ClonefsException.NotFound(cached.name() + " was re-created; dropping the kernel's caches of the old one");
        }
        return id == cached.id() ? node : node(path);
    }

    /** The {@code st_ino} of a synthetic directory: the mount root's marker, or {@link #SNAPSHOTS_INO}. */
    long syntheticIno(Node node) {
        return node.kind() == Kind.ROOT ? rootIno : SNAPSHOTS_INO;
    }

    /** The names in a directory, {@code .} and {@code ..} first. */
    List<String> list(Node dir) {
        List<String> names = new ArrayList<>();
        names.add(".");
        names.add("..");
        switch (dir.kind()) {
            case ROOT -> {
                names.add(SNAPSHOTS);
                names.addAll(volumeNames());
            }
            case SNAPSHOTS -> names.addAll(snapshotNames());
            case INODE -> {
                for (DirEntry e : dir.dataset().fs().readdir(dir.ino())) {
                    names.add(e.name());
                }
            }
        }
        return names;
    }

    /** Names of the volumes, for the root listing; drops cached volumes that are gone. */
    List<String> volumeNames() {
        List<VolumeInfo> vols = engine.volumes();
        Set<String> live = new HashSet<>();
        for (VolumeInfo v : vols) {
            live.add(v.name());
        }
        datasets.keySet().removeIf(k -> !Names.isSnapshotName(k) && !live.contains(k));
        return vols.stream().map(VolumeInfo::name).toList();
    }

    /** Names ({@code volume@snap}) of the snapshots, for the {@code .snapshots} listing. */
    List<String> snapshotNames() {
        List<SnapshotInfo> snaps = engine.snapshots();
        Set<String> live = new HashSet<>();
        for (SnapshotInfo s : snaps) {
            live.add(s.name());
        }
        datasets.keySet().removeIf(k -> Names.isSnapshotName(k) && !live.contains(k));
        return snaps.stream().map(SnapshotInfo::name).toList();
    }

    private Dataset dataset(String name, boolean snapshot) {
        Dataset d = datasets.get(name);
        if (d != null) {
            return d;
        }
        if (!validName(name, snapshot)) {
            // Names no volume can have (".Trash", "x@y" outside .snapshots...): a plain ENOENT.
            throw new ClonefsException.NotFound("no " + (snapshot ? "snapshot" : "volume") + " named '" + name + "'");
        }
        VolumeFs fs;
        long id;
        if (snapshot) {
            id = engine.snapshotInfo(name).id();
            fs = engine.snapshotFs(name);
        } else {
            id = engine.volumeInfo(name).id();
            fs = engine.volume(name);
        }
        String key = (snapshot ? "s" : "v") + id;
        long slotBits = slots.computeIfAbsent(key, k -> (long) nextSlot.getAndIncrement() << SLOT_SHIFT);
        Dataset fresh = new Dataset(name, fs, id, slotBits);
        Dataset raced = datasets.putIfAbsent(name, fresh);
        return raced != null ? raced : fresh;
    }

    private static boolean validName(String name, boolean snapshot) {
        if (snapshot) {
            int at = name.indexOf('@');
            return at > 0 && name.indexOf('@', at + 1) < 0
                    && Names.DATASET.matcher(name.substring(0, at)).matches()
                    && Names.DATASET.matcher(name.substring(at + 1)).matches();
        }
        return Names.DATASET.matcher(name).matches();
    }

    /** "/a/b" -> "a/b"; "/" -> "". libfuse passes absolute, normalised paths. */
    private static String strip(String path) {
        if (path == null) {
            throw new ClonefsException.NotFound("no path for an operation that needs one");
        }
        int start = 0;
        int end = path.length();
        while (start < end && path.charAt(start) == '/') {
            start++;
        }
        while (end > start && path.charAt(end - 1) == '/') {
            end--;
        }
        return path.substring(start, end);
    }
}
