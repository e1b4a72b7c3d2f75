package io.clonefs.metadata;

import io.clonefs.base.BlockId;
import io.clonefs.base.ClonefsException;
import io.clonefs.metrics.Histogram;
import io.clonefs.metrics.Metrics;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The pool's metadata in memory, committed to LMDB in groups.
 *
 * <p>Every change (tree nodes, reference counts, datasets, reclaim queue, block allocation) is
 * made to in-memory state at once, visible to readers at once, and stamped with the open
 * <em>batch epoch</em>. {@link #commit()} collects the open batch under the lock, then — without
 * the lock, so writers go on — syncs the block files (data before metadata), writes the batch in
 * one durable LMDB transaction, and finally releases the blocks that batch freed (a freed block is
 * reused only once its release is durable). {@link #durableEpoch()} tells which changes are safe.
 *
 * <p>One file's {@code fsync} ({@link #commitThrough(long, long[])} with blocks to sync) goes
 * through the {@link IntentLog} when one is attached: the batch's LMDB writes are appended to the
 * log with one {@code fdatasync} and the batch counts as durable. Logged batches stay in memory
 * (nodes and counts that are never evicted) until the next LMDB commit applies them all and
 * starts the log's next generation in the same transaction; a crash in between is repaired by
 * {@link IntentLog#recover} when the pool opens.
 *
 * <p>A small fsync's record also carries the bytes of the blocks it makes durable (at most
 * {@link #DATA_BLOCKS}), which then need no write-back of their own: one write and one
 * {@code fdatasync} in all. Until the next LMDB commit ends the log's generation, the newest
 * durable bytes of such a block are in the log, and recovery writes them back over the block.
 * So, until then: the block is not freed (its space could be reused and written, and recovery
 * would put the old bytes over the new ones); newer bytes of it are made durable only by another
 * record that carries them, never by a sync in place ({@link #syncInPlace}); and that LMDB
 * commit syncs the block first.
 *
 * <p>Thread rules: all methods except {@link #commit()} must be called holding this object's
 * monitor (the engine lock); {@code commit} takes it itself. Hold it only around in-memory work,
 * never across block I/O.
 */
public final class MetaStore implements AutoCloseable {
    private static final Histogram COMMIT_SECONDS = Metrics.process()
            .histogram("clonefs_commit_seconds", "Duration of metadata group commits (block sync + LMDB commit).", null, null);
    private static final Histogram COMMIT_DATA_SECONDS = Metrics.process()
            .histogram("clonefs_commit_data_sync_seconds", "The block data sync that starts each metadata commit.", null, null);
    private static final String COMMITS = "clonefs_metadata_commits_total";
    private static final String COMMITS_HELP = "Metadata commits by where they went: an LMDB transaction, or an intent log append (a file's fsync).";
    private static final LongAdder COMMITS_LMDB = Metrics.process().counter(COMMITS, COMMITS_HELP, "to", "lmdb");
    private static final LongAdder COMMITS_LOG = Metrics.process().counter(COMMITS, COMMITS_HELP, "to", "intent_log");
    private static final String LOG_BYTES = "clonefs_intent_log_bytes_total";
    private static final String LOG_BYTES_HELP = "Bytes of durable intent log records (payload) by what they hold: metadata"
            + " (LMDB writes), or the bytes of blocks a small fsync carries instead of their write-back.";
    private static final LongAdder LOG_BYTES_METADATA = Metrics.process().counter(LOG_BYTES, LOG_BYTES_HELP, "holds", "metadata");
    private static final LongAdder LOG_BYTES_DATA = Metrics.process().counter(LOG_BYTES, LOG_BYTES_HELP, "holds", "block_data");

    private final Lmdb lmdb;
    private final BlockSpace blocks;
    private final int blockSize;
    private final ReentrantLock commitLock = new ReentrantLock();

    final RefTable nodeRefs;
    final RefTable blockRefs;
    private final HashMap<Long, Node> live = new HashMap<>();
    private final LinkedHashMap<Long, Node> clean;
    private HashSet<Long> dirtyNodes = new HashSet<>();
    private HashSet<Long> deletedNodes = new HashSet<>();

    private final TreeMap<String, DatasetRecord> datasets = new TreeMap<>();
    private HashSet<String> dirtyDatasets = new HashSet<>();

    private final ArrayDeque<long[]> reclaim = new ArrayDeque<>();
    private ArrayList<long[]> reclaimAdded = new ArrayList<>();
    private ArrayList<Long> reclaimRemoved = new ArrayList<>();

    private ArrayList<Long> pendingFree = new ArrayList<>();
    private ArrayList<Long> confirmed = new ArrayList<>();
    private final HashSet<Long> unconfirmed = new HashSet<>();

    private long nextNodeId;
    private long nextDatasetId;
    private long nextReclaimSeq;
    private long epoch = 1;
    private volatile long durableEpoch = 0;
    private boolean changed;
    private final List<Batch> failed = new ArrayList<>();
    /** Null: every commit is an LMDB transaction. */
    private IntentLog intentLog;
    /** Batches durable in the intent log and not yet in LMDB, oldest first (under the commit lock). */
    private final List<Batch> logged = new ArrayList<>();
    /** Most blocks whose bytes one record carries. */
    static final int DATA_BLOCKS = 16;
    /**
     * Blocks whose newest durable bytes are in the current log generation (see the class comment).
     * Added to (before the bytes are read) and cleared under the commit lock; read anywhere.
     */
    private final Set<Long> loggedData = ConcurrentHashMap.newKeySet();
    /** Whether {@link #loggedData} may hold blocks: if not, a sync in place needs no commit lock. */
    private volatile boolean anyLoggedData;
    /** Blocks released while their bytes are in the log: freed when its generation ends (under the commit lock). */
    private final List<Long> heldFree = new ArrayList<>();
    /** Whether {@link #logged} has batches, for {@link #hasChanges} (read without the commit lock). */
    private volatile boolean anyLogged;
    /** The nodes of logged batches: LMDB does not have these images yet, so they are never evicted. */
    private final HashMap<Long, Node> loggedNodes = new HashMap<>();
    /** Frees emergency disk space for metadata (see {@code Engine}); true if it freed some. */
    private volatile BooleanSupplier spaceReserve = () -> false;
    private boolean closed;

    private MetaStore(Lmdb lmdb, BlockSpace blocks, int nodeCacheSize) {
        this.lmdb = lmdb;
        this.blocks = blocks;
        this.blockSize = blocks.blockSize();
        this.nodeRefs = new RefTable(lmdb, Schema.Db.NODE_REFS, 100_000);
        this.blockRefs = new RefTable(lmdb, Schema.Db.BLOCK_REFS, 400_000);
        this.clean = new LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Node> e) {
                return size() > nodeCacheSize;
            }
        };
    }

    /** Writes the initial records of a new pool. */
    public static void format(Lmdb lmdb, int blockSize) {
        lmdb.write(w -> {
            if (w.get(Schema.Db.META, Schema.MetaKey.FORMAT_VERSION.key()) != null) {
                throw new ClonefsException.AlreadyExists("a pool already exists there");
            }
            w.put(Schema.Db.META, Schema.MetaKey.FORMAT_VERSION.key(), Schema.u64(Schema.FORMAT_VERSION));
            w.put(Schema.Db.META, Schema.MetaKey.BLOCK_SIZE.key(), Schema.u64(blockSize));
            w.put(Schema.Db.META, Schema.MetaKey.NEXT_NODE_ID.key(), Schema.u64(1));
            w.put(Schema.Db.META, Schema.MetaKey.NEXT_DATASET_ID.key(), Schema.u64(1));
            w.put(Schema.Db.META, Schema.MetaKey.BLOCK_HIGH_WATER.key(), Schema.u64(0));
            w.put(Schema.Db.META, Schema.MetaKey.NEXT_RECLAIM_SEQ.key(), Schema.u64(1));
        });
    }

    /** The format version and block size recorded in a pool; checks the version. */
    public static long[] readHeader(Lmdb lmdb) {
        return lmdb.read(r -> {
            byte[] v = r.get(Schema.Db.META, Schema.MetaKey.FORMAT_VERSION.key());
            byte[] bs = r.get(Schema.Db.META, Schema.MetaKey.BLOCK_SIZE.key());
            if (v == null || bs == null) {
                throw new ClonefsException.PoolFormat("not a clonefs pool (no format record)");
            }
            if (Schema.u64(v) != Schema.FORMAT_VERSION) {
                throw new ClonefsException.PoolFormat("pool format version " + Schema.u64(v)
                        + " is not supported (this build reads version " + Schema.FORMAT_VERSION + ")");
            }
            return new long[] {Schema.u64(v), Schema.u64(bs), metaValue(r, Schema.MetaKey.BLOCK_HIGH_WATER)};
        });
    }

    /** The durable free-block list of a pool, to seed its block store. */
    public static long[] readFreeBlocks(Lmdb lmdb) {
        return lmdb.read(r -> {
            List<Long> ids = new ArrayList<>();
            r.forEach(Schema.Db.FREE_BLOCKS, (k, v) -> ids.add(Schema.u64(k)));
            long[] out = new long[ids.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = ids.get(ids.size() - 1 - i);
            }
            return out;
        });
    }

    /** Loads datasets, counters and the reclaim queue. */
    public static MetaStore open(Lmdb lmdb, BlockSpace blocks, int nodeCacheSize) {
        MetaStore s = new MetaStore(lmdb, blocks, nodeCacheSize);
        lmdb.read(r -> {
            s.nextNodeId = metaValue(r, Schema.MetaKey.NEXT_NODE_ID);
            s.nextDatasetId = metaValue(r, Schema.MetaKey.NEXT_DATASET_ID);
            s.nextReclaimSeq = metaValue(r, Schema.MetaKey.NEXT_RECLAIM_SEQ);
            r.forEach(Schema.Db.DATASETS, (k, v) -> {
                String name = Schema.name(k);
                s.datasets.put(name, DatasetRecord.decode(name, v));
                return true;
            });
            r.forEach(Schema.Db.RECLAIM, (k, v) -> {
                s.reclaim.add(new long[] {Schema.u64(k), Schema.u64(v)});
                return true;
            });
            return null;
        });
        return s;
    }

    private static long metaValue(Lmdb.Reader r, Schema.MetaKey key) {
        byte[] b = r.get(Schema.Db.META, key.key());
        if (b == null) {
            throw new ClonefsException.PoolFormat("pool metadata lacks " + key);
        }
        return Schema.u64(b);
    }

    public int blockSize() {
        return blockSize;
    }

    /**
     * Sets what a commit does when the disk is full: release reserved space and retry once, so
     * that a destroy can still commit (and its blocks be reused) on a full disk.
     */
    public void setSpaceReserve(BooleanSupplier release) {
        this.spaceReserve = release;
    }

    private volatile boolean lmdbFlushesBlockDisk;

    /**
     * Whether LMDB and the block store live on the same filesystem, so that an LMDB commit's
     * {@code fdatasync} also flushes the disk's write cache for block writes that completed
     * before it: a file's {@code fsync} that commits then skips the block store's own cache flush.
     */
    public void setLmdbFlushesBlockDisk(boolean same) {
        this.lmdbFlushesBlockDisk = same;
    }

    public BlockSpace blocks() {
        return blocks;
    }

    /**
     * Lets one file's {@code fsync} commit by an append to {@code log} (opened at the generation
     * {@link IntentLog#recover} returned). The store closes it.
     */
    public void useIntentLog(IntentLog log) {
        commitLock.lock();
        try {
            this.intentLog = log;
        } finally {
            commitLock.unlock();
        }
    }

    public Lmdb lmdb() {
        return lmdb;
    }

    // ---- nodes -------------------------------------------------------------------------------

    /** The node with this id (from memory, else LMDB). */
    public Node load(long id) {
        Node n = live.get(id);
        if (n == null) {
            n = loggedNodes.get(id);
        }
        if (n == null) {
            n = clean.get(id);
        }
        if (n == null) {
            byte[] data = lmdb.read(r -> r.get(Schema.Db.NODES, Schema.u64(id)));
            if (data == null) {
                throw new ClonefsException.IoFailure("metadata damaged: tree node " + id + " is missing", null);
            }
            n = Node.decode(id, data);
            clean.put(id, n);
        }
        return n;
    }

    /** A new empty node with reference count 1. */
    Node newNode(boolean leaf) {
        Node n = new Node(nextNodeId++, leaf, 8);
        markDirty(n);
        return n;
    }

    void markDirty(Node n) {
        if (n.dirtyEpoch != epoch) {
            n.dirtyEpoch = epoch;
            clean.remove(n.id);
            live.put(n.id, n);
        }
        dirtyNodes.add(n.id);
        changed = true;
    }

    /** An id for a node copy (the copy is registered by {@link #markDirty}). */
    long newNodeIdForCopy() {
        return nextNodeId++;
    }

    /** Frees a node whose count dropped to zero (its children have been dealt with). */
    void deleteNode(long id) {
        live.remove(id);
        loggedNodes.remove(id);
        clean.remove(id);
        dirtyNodes.remove(id);
        deletedNodes.add(id);
        nodeRefs.set(id, 0);
        changed = true;
    }

    long nodeRef(long id) {
        return nodeRefs.get(id);
    }

    void setNodeRef(long id, long count) {
        nodeRefs.set(id, count);
        changed = true;
    }

    public long nodeRefCount(long id) {
        return nodeRefs.get(id);
    }

    /** Node counts other than 1 (absent: 1), read in one go; for whole-tree walks. */
    public Map<Long, Long> nodeCountsNotOne() {
        return nodeRefs.snapshotNotOne();
    }

    /** Block counts other than 1 (absent: 1 for a referenced block), read in one go; for whole-tree walks. */
    public Map<Long, Long> blockCountsNotOne() {
        return blockRefs.snapshotNotOne();
    }

    public long blockRefCount(long id) {
        return blockRefs.get(id);
    }

    /** Adds one reference to a node (a snapshot or clone of a root, or a copied parent). */
    public void incNode(long id) {
        setNodeRef(id, nodeRefs.get(id) + 1);
    }

    void incBlock(long id) {
        blockRefs.set(id, blockRefs.get(id) + 1);
        changed = true;
    }

    /** Drops one reference to a block; at zero the block is freed once this batch is durable. */
    void decBlock(long id) {
        long rc = blockRefs.get(id);
        if (rc <= 0) {
            throw new IllegalStateException("block " + id + " has count " + rc + " and is dropped again");
        }
        blockRefs.set(id, rc - 1);
        if (rc == 1) {
            pendingFree.add(id);
        }
        changed = true;
    }

    // ---- blocks ------------------------------------------------------------------------------

    /** A block for new data; it is free in durable state until {@link #confirmBlock} (a tree references it). */
    public BlockId allocateBlock() {
        BlockId b = blocks.allocate();
        unconfirmed.add(b.value());
        return b;
    }

    /** The tree now references {@code b} (count 1). */
    void confirmBlock(long b) {
        if (!unconfirmed.remove(b)) {
            throw new IllegalStateException("block " + b + " was not allocated");
        }
        confirmed.add(b);
        blockRefs.set(b, 1);
        changed = true;
    }

    /**
     * An allocated block that will not be used after all (e.g. its write failed). It goes back to
     * free space once a commit has recorded it as free: freed at once, a commit in between would
     * raise the durable high-water mark past it without listing it free, leaking it (fsck: "allocated
     * but unreferenced").
     */
    public void abandonBlock(BlockId b) {
        if (unconfirmed.remove(b.value())) {
            pendingFree.add(b.value());
            changed = true;
        }
    }

    // ---- datasets ----------------------------------------------------------------------------

    public DatasetRecord dataset(String name) {
        return datasets.get(name);
    }

    public Collection<DatasetRecord> datasets() {
        return datasets.values();
    }

    public long newDatasetId() {
        changed = true;
        return nextDatasetId++;
    }

    public void putDataset(DatasetRecord r) {
        datasets.put(r.name(), r);
        dirtyDatasets.add(r.name());
        changed = true;
    }

    public void removeDataset(String name) {
        datasets.remove(name);
        dirtyDatasets.add(name);
        changed = true;
    }

    /** Creates an empty tree (one leaf) and returns its root id. */
    public long newTree() {
        return newNode(true).id;
    }

    // ---- reclaim queue -----------------------------------------------------------------------

    /** Queues one pending reference drop of a node for the reclaimer. */
    public void enqueueReclaim(long nodeId) {
        long[] e = {nextReclaimSeq++, nodeId};
        reclaim.add(e);
        reclaimAdded.add(e);
        changed = true;
    }

    /** The next queued node id, or -1; removes it from the queue. */
    public long pollReclaim() {
        long[] e = reclaim.poll();
        if (e == null) {
            return -1;
        }
        reclaimRemoved.add(e[0]);
        changed = true;
        return e[1];
    }

    public int reclaimBacklog() {
        return reclaim.size();
    }

    /** Node ids in the reclaim queue (each holds one reference). */
    public List<Long> reclaimQueue() {
        List<Long> out = new ArrayList<>(reclaim.size());
        for (long[] e : reclaim) {
            out.add(e[1]);
        }
        return out;
    }

    public int pendingFreeBlocks() {
        return pendingFree.size();
    }

    // ---- epochs and commit -------------------------------------------------------------------

    /** Epoch that stamps changes made now. */
    public long epoch() {
        return epoch;
    }

    /** Every change stamped with an epoch at or below this is durable. */
    public long durableEpoch() {
        return durableEpoch;
    }

    public boolean hasChanges() {
        return hasNewChanges() || anyLogged;
    }

    /** Changes not yet in a batch. */
    private boolean hasNewChanges() {
        return changed || nodeRefs.hasChanges() || blockRefs.hasChanges();
    }

    public int dirtyNodeCount() {
        return dirtyNodes.size();
    }

    private static final class Batch {
        long epoch;
        Map<Long, Node> nodes = new HashMap<>();
        List<Long> deletedNodes;
        Map<Long, Long> nodeRefs;
        Map<Long, Long> blockRefs;
        Map<String, DatasetRecord> datasets = new HashMap<>();
        List<long[]> reclaimAdded;
        List<Long> reclaimRemoved;
        List<Long> freeAdd = new ArrayList<>();
        List<Long> freeDel;
        List<Long> released;
        long nextNodeId;
        long nextDatasetId;
        long nextReclaimSeq;
        long highWater;
    }

    /**
     * Makes every change made before this call durable: block data first, then one LMDB
     * transaction. Writers may go on meanwhile; their changes join the next batch.
     */
    public void commit() {
        commitThrough(Long.MAX_VALUE);
    }

    /**
     * Makes durable every change stamped with an epoch up to {@code epoch}, and all block data
     * written so far. Concurrent callers share commits: one that finds its epoch made durable by
     * the commit it waited for only syncs the block files (for data written in place since).
     */
    public void commitThrough(long epoch) {
        commitThrough(epoch, null);
    }

    /**
     * Like {@link #commitThrough(long)}, but for one file's {@code fsync} when {@code alsoSync} is
     * not null: instead of all block data, syncs only what the commit needs (the blocks its batches
     * newly reference, whose bytes must be durable before anything points at them) plus
     * {@code alsoSync} (the file's blocks overwritten in place). Other files' in-place writes stay
     * in the page cache until their own fsync or the next full commit.
     */
    public void commitThrough(long epoch, long[] alsoSync) {
        commitLock.lock();
        try {
            if (durableEpoch >= epoch) {
                if (alsoSync == null) {
                    blocks.sync();
                } else if (alsoSync.length > 0) {
                    syncInPlaceLocked(alsoSync);
                }
                return;
            }
            Batch b;
            synchronized (this) {
                if (closed) {
                    return;
                }
                b = hasNewChanges() ? collect() : null;
            }
            long started = System.nanoTime();
            List<Batch> todo = new ArrayList<>(failed);
            if (b != null) {
                todo.add(b);
            }
            boolean toLog;
            try {
                // a failed data sync must keep the collected batch for the next commit, like a failed
                // LMDB write: dropped, its changes would never reach LMDB (lost references, blocks
                // recorded free while referenced)
                toLog = alsoSync != null && !todo.isEmpty() && logDurably(todo, alsoSync);
                if (!toLog) {
                    try {
                        writeDurably(todo, alsoSync);
                    } catch (ClonefsException.NoSpace e) {
                        if (!spaceReserve.getAsBoolean()) {
                            throw e;
                        }
                        writeDurably(todo, alsoSync);
                    }
                }
                if (todo.isEmpty() && logged.isEmpty()) {
                    return;
                }
            } catch (RuntimeException e) {
                failed.clear();
                failed.addAll(todo);
                throw e;
            }
            failed.clear();
            synchronized (this) {
                if (toLog) {
                    for (Batch x : todo) {
                        finishLogged(x);
                    }
                } else {
                    loggedApplied();
                    for (Batch x : todo) {
                        finish(x);
                    }
                }
            }
            if (toLog) {
                logged.addAll(todo);
                COMMITS_LOG.increment();
            } else {
                logged.clear();
                COMMITS_LMDB.increment();
            }
            anyLogged = !logged.isEmpty();
            COMMIT_SECONDS.observeNanos(System.nanoTime() - started);
        } finally {
            commitLock.unlock();
        }
    }

    private void writeDurably(List<Batch> todo, long[] alsoSync) {
        long t0 = System.nanoTime();
        IntentLog log = intentLog;
        if (alsoSync == null) {
            blocks.sync(); // every block written so far, those whose bytes the log holds too
        } else {
            // the blocks whose bytes the log holds: this commit ends its generation
            long[] ids = withLoggedData(blocksToSync(todo, alsoSync));
            if (!todo.isEmpty() && lmdbFlushesBlockDisk) {
                // LMDB's commit fdatasyncs its pages before it writes the meta page that makes the
                // commit visible: that flush of the disk's cache also makes these blocks durable
                blocks.writeBackBlocks(ids, ids.length);
            } else {
                blocks.syncBlocks(ids, ids.length);
            }
        }
        COMMIT_DATA_SECONDS.observeNanos(System.nanoTime() - t0);
        boolean nextGeneration = log != null && log.hasRecords();
        if (todo.isEmpty() && logged.isEmpty() && !nextGeneration) {
            return;
        }
        lmdb.write(w -> {
            // the logged batches first: they are older than the new ones
            for (Batch x : logged) {
                apply(w, x);
            }
            for (Batch x : todo) {
                apply(w, x);
            }
            if (nextGeneration) {
                w.put(Schema.Db.META, Schema.MetaKey.INTENT_LOG_GENERATION.key(), Schema.u64(log.generation() + 1));
            }
        });
        if (nextGeneration) {
            log.restart(log.generation() + 1);
            // the records are stale now: their blocks' bytes are in the block files
            loggedData.clear();
            anyLoggedData = false;
            freeHeld();
        }
    }

    /** {@code ids} and the blocks whose bytes the log holds. */
    private long[] withLoggedData(long[] ids) {
        if (!anyLoggedData) {
            return ids;
        }
        long[] out = Arrays.copyOf(ids, ids.length + loggedData.size()); // (it changes under the commit lock only)
        int n = ids.length;
        for (long id : loggedData) {
            out[n++] = id;
        }
        return out;
    }

    private void freeHeld() {
        if (!heldFree.isEmpty()) {
            release(new ArrayList<>(heldFree));
            heldFree.clear();
        }
    }

    /**
     * Makes durable the writes that returned before this call to {@code ids}, blocks a file
     * overwrote in place whose references are durable already (a file's {@code fsync} with nothing
     * to commit). By range, unless a block's bytes are in the log's current generation: then a
     * record carries the new bytes too (recovery writes records in order), or, if they are too
     * many, an LMDB commit ends the generation.
     */
    public void syncInPlace(long[] ids) {
        if (ids.length == 0) {
            return;
        }
        if (!anyLoggedData) {
            blocks.syncBlocks(ids, ids.length);
            return;
        }
        commitLock.lock();
        try {
            syncInPlaceLocked(ids);
        } finally {
            commitLock.unlock();
        }
    }

    private void syncInPlaceLocked(long[] ids) {
        boolean logged = false;
        if (anyLoggedData) {
            for (long id : ids) {
                if (loggedData.contains(id)) {
                    logged = true;
                    break;
                }
            }
        }
        if (!logged) {
            blocks.syncBlocks(ids, ids.length);
            return;
        }
        if (logDurably(List.of(), ids)) {
            COMMITS_LOG.increment();
            return;
        }
        // too many to carry, or the record does not fit: a commit of everything, which syncs
        // these blocks and (an LMDB commit) ends the log's generation
        commitThrough(Long.MAX_VALUE, ids);
    }

    /**
     * One file's fsync by the intent log: appends the batches' LMDB writes and waits for that
     * append. The blocks the batches newly reference and the file's in-place writes must be durable
     * with it: the record carries their bytes if they are few ({@link #DATA_BLOCKS}), else they are
     * written back first (those whose bytes an earlier record carries are always carried again).
     * False (nothing done) if there is no log or the record does not fit: the caller commits to LMDB.
     */
    private boolean logDurably(List<Batch> todo, long[] alsoSync) {
        IntentLog log = intentLog;
        if (log == null) {
            return false;
        }
        IntentLog.Recorder r = new IntentLog.Recorder();
        for (Batch x : todo) {
            apply(r, x);
        }
        long[] ids = blocksToSync(todo, alsoSync);
        // few: all of them; else those whose bytes an earlier record carries (a large fsync passes
        // here with every block it wrote: no set of them is built, and the logged set is looked at
        // only while it holds any)
        long[] carried = ids.length <= DATA_BLOCKS ? Arrays.stream(ids).distinct().toArray()
                : anyLoggedData ? Arrays.stream(ids).filter(loggedData::contains).distinct().toArray() : new long[0];
        if (carried.length > DATA_BLOCKS) {
            return false;
        }
        ByteBuffer buf = ByteBuffer.allocate(blockSize);
        if (carried.length > 0 && !anyLoggedData && !blocks.readWhole(carried[0], buf)) {
            carried = new long[0]; // a space that cannot read blocks: they are written back instead
        }
        int length = r.size() + carried.length * (IntentLog.DATA_OVERHEAD + blockSize);
        if (!log.fits(length)) {
            return false;
        }
        long t0 = System.nanoTime();
        int metadataBytes = r.size();
        if (carried.length > 0) {
            // marked before their bytes are read: a sync in place that does not see the mark ran
            // after writes that this read sees
            for (long id : carried) {
                loggedData.add(id);
            }
            anyLoggedData = true;
            for (long id : carried) {
                buf.clear();
                if (!blocks.readWhole(id, buf)) {
                    throw new IllegalStateException("block " + id + " cannot be read for the intent log");
                }
                r.data(id, buf.array());
            }
        }
        byte[] record = r.bytes();
        long[] inRecord = carried;
        long[] rest = carried.length == 0 ? ids
                : Arrays.stream(ids).filter(id -> Arrays.stream(inRecord).noneMatch(c -> c == id)).toArray();
        if (rest.length == 0 && carried.length > 0) {
            log.write(record); // the record carries every block: nothing to write back
        } else if (lmdbFlushesBlockDisk) {
            // the log lives beside LMDB: its fdatasync flushes the disk's cache for these blocks
            // too, so the record may travel to the disk with them; it is made durable (and counts)
            // only after their writes have completed
            try {
                blocks.writeBackBlocks(rest, rest.length, () -> log.write(record));
            } catch (RuntimeException e) {
                log.discard();
                throw e;
            }
        } else {
            blocks.syncBlocks(rest, rest.length);
            log.write(record);
        }
        COMMIT_DATA_SECONDS.observeNanos(System.nanoTime() - t0);
        log.force();
        LOG_BYTES_METADATA.add(metadataBytes);
        LOG_BYTES_DATA.add(record.length - metadataBytes);
        return true;
    }

    /** The blocks a commit must make durable first: those its batches newly reference, and {@code alsoSync}. */
    private static long[] blocksToSync(List<Batch> todo, long[] alsoSync) {
        int n = alsoSync.length;
        for (Batch x : todo) {
            n += x.freeDel.size();
        }
        long[] ids = Arrays.copyOf(alsoSync, n);
        int i = alsoSync.length;
        for (Batch x : todo) {
            for (long id : x.freeDel) {
                ids[i++] = id;
            }
        }
        return ids;
    }

    /**
     * Runs {@code body} on a state where memory and LMDB agree: no commit in flight, nothing
     * uncommitted. Other threads wait at the metadata monitor meanwhile.
     */
    public <T> T quiesced(Supplier<T> body) {
        commitLock.lock();
        try {
            while (true) {
                commit();
                synchronized (this) {
                    if (!hasChanges()) {
                        return body.get();
                    }
                }
            }
        } finally {
            commitLock.unlock();
        }
    }

    private Batch collect() {
        Batch b = new Batch();
        b.epoch = epoch++;
        for (long id : dirtyNodes) {
            // a shallow copy is a consistent image (items are replaced, never mutated); encoded outside the lock
            b.nodes.put(id, live.get(id).copy(id));
        }
        dirtyNodes = new HashSet<>();
        b.deletedNodes = new ArrayList<>(deletedNodes);
        deletedNodes = new HashSet<>();
        b.nodeRefs = nodeRefs.drain();
        b.blockRefs = blockRefs.drain();
        for (String name : dirtyDatasets) {
            b.datasets.put(name, datasets.get(name));
        }
        dirtyDatasets = new HashSet<>();
        b.reclaimAdded = reclaimAdded;
        reclaimAdded = new ArrayList<>();
        b.reclaimRemoved = reclaimRemoved;
        reclaimRemoved = new ArrayList<>();
        b.freeDel = confirmed;
        confirmed = new ArrayList<>();
        b.released = pendingFree;
        pendingFree = new ArrayList<>();
        b.freeAdd.addAll(b.released);
        // allocated but not yet referenced: free in durable state, so a crash leaks nothing
        b.freeAdd.addAll(unconfirmed);
        b.nextNodeId = nextNodeId;
        b.nextDatasetId = nextDatasetId;
        b.nextReclaimSeq = nextReclaimSeq;
        b.highWater = blocks.highWater();
        changed = false;
        return b;
    }

    private static void apply(Lmdb.Writer w, Batch b) {
        for (Map.Entry<Long, Node> e : b.nodes.entrySet()) {
            w.put(Schema.Db.NODES, Schema.u64(e.getKey()), e.getValue().encode());
        }
        for (long id : b.deletedNodes) {
            w.delete(Schema.Db.NODES, Schema.u64(id));
        }
        RefTable.apply(w, Schema.Db.NODE_REFS, b.nodeRefs);
        RefTable.apply(w, Schema.Db.BLOCK_REFS, b.blockRefs);
        for (Map.Entry<String, DatasetRecord> e : b.datasets.entrySet()) {
            if (e.getValue() == null) {
                w.delete(Schema.Db.DATASETS, Schema.name(e.getKey()));
            } else {
                w.put(Schema.Db.DATASETS, Schema.name(e.getKey()), e.getValue().encode());
            }
        }
        for (long[] e : b.reclaimAdded) {
            w.put(Schema.Db.RECLAIM, Schema.u64(e[0]), Schema.u64(e[1]));
        }
        for (long seq : b.reclaimRemoved) {
            w.delete(Schema.Db.RECLAIM, Schema.u64(seq));
        }
        byte[] empty = new byte[0];
        for (long id : b.freeDel) {
            w.delete(Schema.Db.FREE_BLOCKS, Schema.u64(id));
        }
        for (long id : b.freeAdd) {
            w.put(Schema.Db.FREE_BLOCKS, Schema.u64(id), empty);
        }
        w.put(Schema.Db.META, Schema.MetaKey.NEXT_NODE_ID.key(), Schema.u64(b.nextNodeId));
        w.put(Schema.Db.META, Schema.MetaKey.NEXT_DATASET_ID.key(), Schema.u64(b.nextDatasetId));
        w.put(Schema.Db.META, Schema.MetaKey.NEXT_RECLAIM_SEQ.key(), Schema.u64(b.nextReclaimSeq));
        w.put(Schema.Db.META, Schema.MetaKey.BLOCK_HIGH_WATER.key(), Schema.u64(b.highWater));
    }

    /** As {@link #finish}, for a batch durable in the intent log: its nodes and counts stay until LMDB has them. */
    private void finishLogged(Batch b) {
        for (Map.Entry<Long, Node> e : b.nodes.entrySet()) {
            long id = e.getKey();
            Node n = live.get(id);
            if (n != null && n.dirtyEpoch <= b.epoch) {
                live.remove(id);
                n.dirtyEpoch = 0;
                loggedNodes.put(id, n);
            } else if (n != null) {
                loggedNodes.put(id, e.getValue()); // dirty again since: the logged image, shadowed by the live one
            }
        }
        nodeRefs.finishLogged();
        blockRefs.finishLogged();
        release(b.released);
        durableEpoch = Math.max(durableEpoch, b.epoch);
    }

    /** The logged batches are in LMDB: their nodes and counts become clean, evictable entries. */
    private void loggedApplied() {
        clean.putAll(loggedNodes);
        loggedNodes.clear();
        nodeRefs.loggedApplied();
        blockRefs.loggedApplied();
    }

    private void finish(Batch b) {
        for (long id : b.nodes.keySet()) {
            Node n = live.get(id);
            if (n != null && n.dirtyEpoch <= b.epoch) {
                live.remove(id);
                n.dirtyEpoch = 0;
                clean.put(id, n);
            }
        }
        nodeRefs.finish();
        blockRefs.finish();
        release(b.released);
        durableEpoch = Math.max(durableEpoch, b.epoch);
    }

    /**
     * Hands a durable batch's released blocks to the block store, highest first: its free list is
     * a stack, so they go out again lowest first, and blocks a file held in a row (a deleted WAL
     * segment or table) come back as runs in ascending order for the next file's writes. Freed in
     * the order released, they came back descending: every block of a 1 MiB write a
     * {@code pwrite} and an extent of its own.
     */
    private void release(List<Long> released) {
        released.sort(Comparator.reverseOrder());
        for (long id : released) {
            if (anyLoggedData && loggedData.contains(id)) {
                heldFree.add(id); // its bytes are in the log: free once the generation ends
            } else {
                blocks.free(new BlockId(id));
            }
        }
    }

    /** Commits what is left and closes LMDB and the block store. Idempotent. */
    @Override
    public void close() {
        commitLock.lock();
        try {
            synchronized (this) {
                if (closed) {
                    return;
                }
            }
            try {
                commit();
            } finally {
                synchronized (this) {
                    closed = true;
                }
                if (intentLog != null) {
                    intentLog.close();
                }
                blocks.close();
                lmdb.close();
            }
        } finally {
            commitLock.unlock();
        }
    }
}
