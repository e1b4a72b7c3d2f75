package io.clonefs.engine;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import io.clonefs.block.RemoteRef;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.MetaStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The remote tier's side of the engine: a snapshot handed out as {@link SnapshotItem}s (with its
 * blocks read one by one) for a push, a snapshot built from items whose blocks live in an object
 * store for an import, and the local cache of such remote-backed blocks.
 *
 * <p>Thread rules: thread-safe. An export reads the tree in slices under the metadata monitor and
 * visits outside it; an import builds a hidden dataset ({@link Datasets#IMPORT_PREFIX}) and
 * renames it under the monitor at the end, so nobody sees a half-imported snapshot.
 */
final class SnapshotTransfer {
    private static final int EXPORT_SLICE = 4096;
    private static final int IMPORT_BATCH = 8192;

    private final Pool pool;
    private final MetaStore meta;
    private final CowTree tree;
    private final RemoteTier tier;
    private final Datasets datasets;
    private final Committer committer;

    SnapshotTransfer(Pool pool, Datasets datasets, Committer committer) {
        this.pool = pool;
        this.meta = pool.meta;
        this.tree = pool.tree;
        this.tier = pool.tier;
        this.datasets = datasets;
        this.committer = committer;
    }

    void exportSnapshot(String snapshot, SnapshotItem.Visitor visitor) {
        SnapshotName.parse(snapshot);
        pool.checkOpen();
        long id;
        synchronized (meta) {
            DatasetRecord r = meta.dataset(snapshot);
            if (r == null || !r.snapshot()) {
                throw new ClonefsException.NotFound("snapshot '" + snapshot + "' does not exist");
            }
            id = r.id();
        }
        // in slices, so that the pool's other users are not held up by a long walk; a snapshot's
        // tree never changes, so the slices join up into one consistent state
        byte[] from = new byte[0];
        while (true) {
            List<byte[][]> slice = new ArrayList<>();
            synchronized (meta) {
                DatasetRecord r = meta.dataset(snapshot);
                if (r == null || r.id() != id) {
                    throw new ClonefsException.Conflict("snapshot '" + snapshot + "' was destroyed during the export");
                }
                tree.scan(r.root(), from, null, (k, v) -> {
                    slice.add(new byte[][] {k, v});
                    return slice.size() < EXPORT_SLICE;
                });
            }
            for (byte[][] kv : slice) {
                if (!visitor.visit(TreeItems.decode(kv[0], kv[1]))) {
                    return;
                }
            }
            if (slice.size() < EXPORT_SLICE) {
                return;
            }
            byte[] last = slice.get(slice.size() - 1)[0];
            from = Arrays.copyOf(last, last.length + 1); // the next key after the last one
        }
    }

    void readBlock(long blockId, ByteBuffer dst) {
        pool.checkOpen();
        if (dst.remaining() != pool.blockSize()) {
            throw new ClonefsException.InvalidArgument("readBlock wants a buffer of one block (" + pool.blockSize() + " bytes)");
        }
        tier.read(new BlockId(blockId), 0, dst);
    }

    SnapshotInfo importSnapshot(String volume, String snapshot, String remote, List<String> packKeys,
                                Iterator<SnapshotItem> items) {
        SnapshotName full = new SnapshotName(volume, snapshot);
        pool.checkOpen();
        int[] packNo = tier.packNumbers(remote, packKeys);
        String tmp;
        synchronized (meta) {
            if (meta.dataset(volume) != null) {
                throw new ClonefsException.AlreadyExists("volume '" + volume + "' already exists");
            }
            long dsId = meta.newDatasetId();
            tmp = Datasets.IMPORT_PREFIX + dsId;
            meta.putDataset(new DatasetRecord(tmp, false, dsId, meta.newTree(), System.currentTimeMillis(), ""));
        }
        boolean done = false;
        try {
            Volume v = datasets.view(tmp);
            List<SnapshotItem> batch = new ArrayList<>(IMPORT_BATCH);
            boolean sawSuper = false;
            while (items.hasNext()) {
                SnapshotItem it = items.next();
                sawSuper |= it instanceof SnapshotItem.Super;
                batch.add(it);
                if (batch.size() == IMPORT_BATCH) {
                    importBatch(v, batch, packNo);
                    batch.clear();
                }
            }
            importBatch(v, batch, packNo);
            if (!sawSuper) {
                throw new ClonefsException.InvalidArgument("the imported items hold no superblock: not a snapshot's tree");
            }
            synchronized (meta) {
                if (meta.dataset(volume) != null) {
                    throw new ClonefsException.AlreadyExists("volume '" + volume + "' already exists");
                }
                DatasetRecord r = meta.dataset(tmp);
                meta.removeDataset(tmp);
                datasets.forget(tmp);
                long now = System.currentTimeMillis();
                meta.putDataset(new DatasetRecord(volume, false, r.id(), r.root(), now, ""));
                meta.incNode(r.root());
                meta.putDataset(new DatasetRecord(full.toString(), true, meta.newDatasetId(), r.root(), now, ""));
            }
            meta.commit();
            done = true;
            return datasets.snapshotInfo(full.toString());
        } finally {
            if (!done) {
                synchronized (meta) {
                    DatasetRecord r = meta.dataset(tmp);
                    if (r != null) {
                        meta.removeDataset(tmp);
                        datasets.forget(tmp);
                        meta.enqueueReclaim(r.root());
                    }
                }
                try {
                    meta.commit();
                } catch (RuntimeException ignored) {
                    // the original failure is what the caller needs; open() cleans up after a crash
                }
                committer.wake();
            }
        }
    }

    /** Allocates and registers (durably) the batch's remote-backed blocks, then puts its items. */
    private void importBatch(Volume v, List<SnapshotItem> batch, int[] packNo) {
        if (batch.isEmpty()) {
            return;
        }
        int extents = 0;
        for (SnapshotItem it : batch) {
            if (it instanceof SnapshotItem.Extent) {
                throw new ClonefsException.InvalidArgument("imported extent without a remote reference");
            }
            if (it instanceof SnapshotItem.RemoteExtent e) {
                if (e.ref().pack() >= packNo.length) {
                    throw new ClonefsException.InvalidArgument("imported extent names pack " + e.ref().pack() + " of " + packNo.length);
                }
                extents++;
            }
        }
        long[] ids = new long[extents];
        RemoteRef[] refs = new RemoteRef[extents];
        synchronized (meta) {
            for (int i = 0; i < extents; i++) {
                ids[i] = meta.allocateBlock().value();
            }
        }
        int j = 0;
        for (SnapshotItem it : batch) {
            if (it instanceof SnapshotItem.RemoteExtent e) {
                refs[j] = new RemoteRef(packNo[e.ref().pack()], e.ref().slot(), e.ref().sha256());
                j++;
            }
        }
        try {
            tier.register(ids, refs);
        } catch (RuntimeException e) {
            synchronized (meta) {
                for (long id : ids) {
                    meta.abandonBlock(new BlockId(id));
                }
            }
            throw e;
        }
        j = 0;
        synchronized (meta) {
            for (SnapshotItem it : batch) {
                byte[] value = it instanceof SnapshotItem.RemoteExtent ? TreeItems.extentValue(ids[j++]) : TreeItems.value(it);
                v.importItem(TreeItems.key(it), value);
            }
        }
        committer.afterChange();
    }

    CacheStatus cacheStatus() {
        pool.checkOpen();
        return tier.status();
    }

    long cacheEvict(long keepBytes) {
        pool.checkOpen();
        if (keepBytes < 0) {
            throw new ClonefsException.InvalidArgument("bytes to keep must not be negative");
        }
        return tier.evict(keepBytes);
    }
}
