package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metadata.Node;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Where volumes, snapshots and clones are made, listed, measured and destroyed, and where the
 * {@link Volume} of each is kept.
 *
 * <p>Snapshot, clone and destroy are O(1) in data size: a snapshot or clone is a new root record
 * pointing at the same tree root, whose count goes up by one; destroy hands the root's reference
 * to the background reclaimer. A snapshot waits at the {@link #barrier} for in-flight writes
 * (whose data I/O spans several steps), so it is atomic across the whole volume.
 *
 * <p>Datasets whose name starts with {@link #IMPORT_PREFIX} are snapshots being imported: hidden
 * from every listing, dropped at open if a crash cut them off.
 *
 * <p>Thread rules: thread-safe. Dataset records are read and changed under the metadata monitor;
 * a snapshot takes the barrier for writing first (lock order: barrier, inode lock, metadata).
 */
final class Datasets {
    /** Datasets being imported: hidden from every listing, dropped at open if a crash cut them off. */
    static final String IMPORT_PREFIX = ".import-";

    private final Pool pool;
    private final MetaStore meta;
    private final CowTree tree;
    private final Committer committer;
    /** Held for reading by every mutation of a volume, for writing by a snapshot. */
    final ReentrantReadWriteLock barrier = new ReentrantReadWriteLock();
    private final VolumeContext volumeContext;
    private final ConcurrentHashMap<String, Volume> views = new ConcurrentHashMap<>();

    Datasets(Pool pool, Committer committer) {
        this.pool = pool;
        this.meta = pool.meta;
        this.tree = pool.tree;
        this.committer = committer;
        this.volumeContext = new VolumeContext(meta, tree, pool.tier, barrier, new InodeLocks(), committer::afterChange);
    }

    /**
     * At open: drops imports a crash cut off, and purges inodes that were open-but-unlinked when
     * the pool was last closed or crashed.
     */
    void recover() {
        synchronized (meta) {
            for (DatasetRecord r : List.copyOf(meta.datasets())) {
                if (r.name().startsWith(IMPORT_PREFIX)) {
                    // an import cut off by a crash: never visible, reclaim what it built
                    meta.removeDataset(r.name());
                    meta.enqueueReclaim(r.root());
                    continue;
                }
                if (!r.snapshot()) {
                    view(r.name()).purgeOrphans();
                }
            }
        }
        meta.commit();
    }

    /** The filesystem of a volume or snapshot, made once per dataset record. */
    Volume view(String name) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(name);
            if (r == null) {
                throw new ClonefsException.NotFound((SnapshotName.looksLikeSnapshot(name) ? "snapshot '" : "volume '") + name
                        + "' does not exist");
            }
            Volume v = views.get(name);
            if (v == null || v.datasetId() != r.id()) {
                v = new Volume(volumeContext, r);
                views.put(name, v);
            }
            return v;
        }
    }

    /** Forgets the filesystem of a dataset that was removed or renamed. */
    void forget(String name) {
        views.remove(name);
    }

    VolumeInfo createVolume(String name) {
        Names.checkDataset("volume", name);
        pool.checkOpen();
        synchronized (meta) {
            if (meta.dataset(name) != null) {
                throw new ClonefsException.AlreadyExists("volume '" + name + "' already exists");
            }
            long root = meta.newTree();
            meta.putDataset(new DatasetRecord(name, false, meta.newDatasetId(), root, System.currentTimeMillis(), ""));
            view(name).format();
        }
        meta.commit();
        return volumeInfo(name);
    }

    SnapshotInfo snapshot(String volume, String snapshot) {
        SnapshotName full = new SnapshotName(volume, snapshot);
        pool.checkOpen();
        barrier.writeLock().lock();
        try {
            synchronized (meta) {
                DatasetRecord v = meta.dataset(volume);
                if (v == null) {
                    throw new ClonefsException.NotFound("volume '" + volume + "' does not exist");
                }
                if (meta.dataset(full.toString()) != null) {
                    throw new ClonefsException.AlreadyExists("snapshot '" + full + "' already exists");
                }
                meta.incNode(v.root());
                meta.putDataset(new DatasetRecord(full.toString(), true, meta.newDatasetId(), v.root(), System.currentTimeMillis(), ""));
            }
        } finally {
            barrier.writeLock().unlock();
        }
        meta.commit();
        return snapshotInfo(full.toString());
    }

    VolumeInfo cloneVolume(String snapshot, String newVolume) {
        SnapshotName.parse(snapshot);
        Names.checkDataset("volume", newVolume);
        pool.checkOpen();
        synchronized (meta) {
            DatasetRecord s = meta.dataset(snapshot);
            if (s == null) {
                throw new ClonefsException.NotFound("snapshot '" + snapshot + "' does not exist");
            }
            if (meta.dataset(newVolume) != null) {
                throw new ClonefsException.AlreadyExists("volume '" + newVolume + "' already exists");
            }
            meta.incNode(s.root());
            meta.putDataset(new DatasetRecord(newVolume, false, meta.newDatasetId(), s.root(), System.currentTimeMillis(), snapshot));
            view(newVolume).purgeOrphans();
        }
        meta.commit();
        return volumeInfo(newVolume);
    }

    void destroy(String name, boolean recursive) {
        boolean isSnapshot = SnapshotName.looksLikeSnapshot(name);
        if (isSnapshot) {
            SnapshotName.parse(name);
        } else {
            Names.checkDataset("volume", name);
        }
        pool.checkOpen();
        synchronized (meta) {
            if (meta.dataset(name) == null) {
                throw new ClonefsException.NotFound((isSnapshot ? "snapshot '" : "volume '") + name + "' does not exist");
            }
            LinkedHashSet<String> doomed = new LinkedHashSet<>();
            collect(name, recursive, doomed);
            for (String n : doomed) {
                DatasetRecord r = meta.dataset(n);
                meta.removeDataset(n);
                meta.enqueueReclaim(r.root());
                views.remove(n);
            }
        }
        meta.commit();
        committer.wake();
    }

    private void collect(String name, boolean recursive, LinkedHashSet<String> out) {
        List<String> deps = dependants(name);
        if (!deps.isEmpty() && !recursive) {
            String what = SnapshotName.looksLikeSnapshot(name) ? "snapshot '" + name + "' has clones: "
                    : "volume '" + name + "' has snapshots: ";
            throw new ClonefsException.Conflict(what + String.join(", ", deps) + " (destroy them first, or destroy recursively)");
        }
        for (String d : deps) {
            collect(d, true, out);
        }
        out.add(name);
    }

    /** A snapshot's clones, or a volume's snapshots. */
    private List<String> dependants(String name) {
        boolean isSnapshot = SnapshotName.looksLikeSnapshot(name);
        List<String> out = new ArrayList<>();
        for (DatasetRecord r : meta.datasets()) {
            if (isSnapshot ? (!r.snapshot() && r.origin().equals(name))
                    : (r.snapshot() && SnapshotName.parse(r.name()).volume().equals(name))) {
                out.add(r.name());
            }
        }
        return out;
    }

    List<VolumeInfo> volumes() {
        synchronized (meta) {
            List<VolumeInfo> out = new ArrayList<>();
            for (DatasetRecord r : meta.datasets()) {
                if (!r.snapshot() && !r.name().startsWith(IMPORT_PREFIX)) {
                    out.add(volumeInfo(r));
                }
            }
            return out;
        }
    }

    List<SnapshotInfo> snapshots() {
        synchronized (meta) {
            // each snapshot's clones from one pass over the datasets, not one pass per snapshot
            Map<String, List<String>> clones = new HashMap<>();
            for (DatasetRecord r : meta.datasets()) {
                if (!r.snapshot() && !r.origin().isEmpty()) {
                    clones.computeIfAbsent(r.origin(), k -> new ArrayList<>()).add(r.name());
                }
            }
            List<SnapshotInfo> out = new ArrayList<>();
            for (DatasetRecord r : meta.datasets()) {
                if (r.snapshot()) {
                    out.add(snapshotInfo(r, clones.getOrDefault(r.name(), List.of())));
                }
            }
            return out;
        }
    }

    VolumeInfo volumeInfo(String name) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(name);
            if (r == null || r.snapshot()) {
                throw new ClonefsException.NotFound("volume '" + name + "' does not exist");
            }
            return volumeInfo(r);
        }
    }

    SnapshotInfo snapshotInfo(String fullName) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(fullName);
            if (r == null || !r.snapshot()) {
                throw new ClonefsException.NotFound("snapshot '" + fullName + "' does not exist");
            }
            return snapshotInfo(r);
        }
    }

    private VolumeInfo volumeInfo(DatasetRecord r) {
        return new VolumeInfo(r.name(), r.id(), r.origin().isEmpty() ? null : r.origin(),
                Instant.ofEpochMilli(r.createdMs()), referencedBlocks(r.root()) * pool.blockSize());
    }

    private SnapshotInfo snapshotInfo(DatasetRecord r) {
        return snapshotInfo(r, dependants(r.name()));
    }

    /** @param clones the volumes cloned from it ({@link #dependants}) */
    private SnapshotInfo snapshotInfo(DatasetRecord r, List<String> clones) {
        SnapshotName name = SnapshotName.parse(r.name());
        return new SnapshotInfo(r.name(), name.volume(), name.snapshot(), r.id(), Instant.ofEpochMilli(r.createdMs()),
                referencedBlocks(r.root()) * pool.blockSize(), clones);
    }

    private long referencedBlocks(long root) {
        byte[] v = tree.get(root, Keys.superKey());
        return ByteBuffer.wrap(v).getLong(8);
    }

    VolumeFs volume(String name) {
        pool.checkOpen();
        if (SnapshotName.looksLikeSnapshot(name)) {
            throw new ClonefsException.InvalidArgument("'" + name + "' is a snapshot; volumes have no '@'");
        }
        Names.checkDataset("volume", name);
        return view(name);
    }

    VolumeFs snapshotFs(String fullName) {
        pool.checkOpen();
        SnapshotName.parse(fullName);
        return view(fullName);
    }

    /** Referenced and unique bytes of a volume or snapshot; unique costs a walk of what it alone owns. */
    VolumeSpace space(String name) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(name);
            if (r == null) {
                throw new ClonefsException.NotFound("'" + name + "' does not exist");
            }
            long unique = meta.nodeRefCount(r.root()) == 1 ? uniqueBlocks(r.root()) : 0;
            return new VolumeSpace(name, referencedBlocks(r.root()) * pool.blockSize(), unique * pool.blockSize());
        }
    }

    /**
     * Blocks reachable from {@code id} through nodes of count 1 that have count 1 themselves. Each
     * count is looked up as the walk meets it: the walk covers only what the volume alone owns, so a
     * list of 200 small branches does not read every shared block's count 200 times.
     */
    private long uniqueBlocks(long id) {
        Node n = meta.load(id);
        long sum = 0;
        for (int i = 0; i < n.count(); i++) {
            if (n.isLeaf()) {
                long b = Keys.blockRef(n.key(i), n.value(i));
                if (b >= 0 && meta.blockRefCount(b) == 1) {
                    sum++;
                }
            } else if (meta.nodeRefCount(n.child(i)) == 1) {
                sum += uniqueBlocks(n.child(i));
            }
        }
        return sum;
    }
}
