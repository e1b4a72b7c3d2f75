package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;

/**
 * An open pool: volumes, snapshots and clones over shared, refcounted blocks. The facade of the
 * engine; the work is done behind it, each part answering one question:
 * <ul>
 * <li>{@link Pool}: the pool directory, its lock, its stores, the metadata space reserve, gauges;</li>
 * <li>{@link Committer}: the background group committer and reclaimer;</li>
 * <li>{@link Datasets}: where volumes, snapshots and clones are made, listed and destroyed;</li>
 * <li>{@link SnapshotTransfer}: snapshots exported to and imported from a remote, and the cache of
 *     remote-backed blocks.</li>
 * </ul>
 *
 * <p>Snapshot, clone and destroy are O(1) in data size: a snapshot or clone is a new root record
 * pointing at the same tree root, whose count goes up by one; destroy hands the root's reference
 * to the background reclaimer. A snapshot waits at a barrier for in-flight writes (whose data I/O
 * spans several steps), so it is atomic across the whole volume.
 *
 * <p>Thread rules: thread-safe. Two background threads: the group committer (commits dirty
 * metadata every {@link EngineOptions#commitIntervalMillis()} and under memory pressure) and the
 * reclaimer. Lock order: snapshot barrier, then the inode lock, then the metadata monitor.
 */
public final class Engine implements AutoCloseable {
    public static final int DEFAULT_BLOCK_SIZE = 8192;

    private final Pool pool;
    private final Committer committer;
    private final Datasets datasets;
    private final SnapshotTransfer transfer;
    private final SnapshotDiff diff;
    private boolean closed;

    private Engine(Pool pool) {
        this.pool = pool;
        this.committer = new Committer(pool);
        this.datasets = new Datasets(pool, committer);
        this.transfer = new SnapshotTransfer(pool, datasets, committer);
        this.diff = new SnapshotDiff(pool);
    }

    /** Creates an empty pool in {@code dir} (created if missing; must not hold a pool). */
    public static void init(Path dir, int blockSize) {
        Pool.init(dir, blockSize);
    }

    /** Opens a pool; only one process (and one Engine) may have a pool open at a time. */
    public static Engine open(Path dir, EngineOptions options) {
        Pool pool = Pool.open(dir, options);
        try {
            Engine e = new Engine(pool);
            e.datasets.recover();
            pool.registerGauges(e.datasets);
            e.committer.start();
            return e;
        } catch (RuntimeException ex) {
            pool.abandon();
            throw ex;
        }
    }

    public static Engine open(Path dir) {
        return open(dir, EngineOptions.defaults());
    }

    public Path directory() {
        return pool.directory();
    }

    public int blockSize() {
        return pool.blockSize();
    }

    // ---- datasets -----------------------------------------------------------------------------

    /** Creates an empty volume (root directory owned by root, mode 0755). Durable on return. */
    public VolumeInfo createVolume(String name) {
        return datasets.createVolume(name);
    }

    /** Takes a crash-consistent snapshot of a volume at this instant. O(1). Durable on return. */
    public SnapshotInfo snapshot(String volume, String snapshot) {
        return datasets.snapshot(volume, snapshot);
    }

    /** Creates a volume from a snapshot ({@code volume@snap}). O(1). Durable on return. */
    public VolumeInfo cloneVolume(String snapshot, String newVolume) {
        return datasets.cloneVolume(snapshot, newVolume);
    }

    /**
     * Destroys a volume or a snapshot ({@code volume@snap}). Refused with
     * {@link ClonefsException.Conflict} while it has dependants (a volume's snapshots, a snapshot's
     * clones) unless {@code recursive}, which destroys them too. Returns at once; blocks are
     * reclaimed in the background.
     */
    public void destroy(String name, boolean recursive) {
        datasets.destroy(name, recursive);
    }

    public List<VolumeInfo> volumes() {
        return datasets.volumes();
    }

    public List<SnapshotInfo> snapshots() {
        return datasets.snapshots();
    }

    public VolumeInfo volumeInfo(String name) {
        return datasets.volumeInfo(name);
    }

    public SnapshotInfo snapshotInfo(String fullName) {
        return datasets.snapshotInfo(fullName);
    }

    /** The writable filesystem of a volume. */
    public VolumeFs volume(String name) {
        return datasets.volume(name);
    }

    /** The read-only filesystem of a snapshot ({@code volume@snap}). */
    public VolumeFs snapshotFs(String fullName) {
        return datasets.snapshotFs(fullName);
    }

    // ---- space --------------------------------------------------------------------------------

    public SpaceInfo space() {
        return pool.space();
    }

    /** Referenced and unique bytes of a volume or snapshot; unique costs a walk of what it alone owns. */
    public VolumeSpace space(String name) {
        return datasets.space(name);
    }

    // ---- diff of two snapshots ----------------------------------------------------------------

    /**
     * Visits every extent at which two snapshots ({@code volume@snap}) differ, in key order, walking
     * only the tree nodes they do not share (see {@link ExtentDiff}); no block is read. Works for
     * any two snapshots, but costs little only for snapshots of one lineage. Returns the number of
     * tree nodes read.
     */
    public long diffExtents(String snapshotA, String snapshotB, ExtentDiff.Visitor visitor) {
        return diff.diffExtents(snapshotA, snapshotB, visitor);
    }

    /** The block id of every block index of file {@code ino} in a snapshot, -1 for a hole; as long as its last extent. */
    public long[] fileBlocks(String snapshot, InodeId ino) {
        return diff.fileBlocks(snapshot, ino);
    }

    // ---- remote tier: export, import, cache ---------------------------------------------------

    /**
     * Visits every item of a snapshot's tree ({@code volume@snap}) in key order: its super item,
     * inodes, directory entries, extents and orphan marks (see {@link SnapshotItem}). Read an
     * extent's block with {@link #readBlock}. The snapshot is immutable, so the walk sees one
     * consistent state; it must not be destroyed meanwhile.
     */
    public void exportSnapshot(String snapshot, SnapshotItem.Visitor visitor) {
        transfer.exportSnapshot(snapshot, visitor);
    }

    /** Reads one whole block ({@code dst.remaining() == blockSize()}) by its id, fetching it if remote-backed. */
    public void readBlock(long blockId, ByteBuffer dst) {
        transfer.readBlock(blockId, dst);
    }

    /**
     * Creates volume {@code volume} holding exactly the given items (as {@link #exportSnapshot} gave
     * them, but each extent a {@link SnapshotItem.RemoteExtent} into {@code packKeys}), then its
     * snapshot {@code volume@snapshot}. No block is fetched: extents point at remote-backed blocks,
     * read from {@code remote} on first use and cached locally. Durable on return. Refused (nothing
     * changed) if the volume exists; if the items fail (an exception from the iterator), nothing is
     * left behind either.
     */
    public SnapshotInfo importSnapshot(String volume, String snapshot, String remote, List<String> packKeys,
                                       Iterator<SnapshotItem> items) {
        return transfer.importSnapshot(volume, snapshot, remote, packKeys, items);
    }

    /** The local cache of remote-backed blocks. */
    public CacheStatus cacheStatus() {
        return transfer.cacheStatus();
    }

    /**
     * Drops cached copies of remote-backed blocks until at most {@code keepBytes} stay on local
     * disk (0: all); they are fetched again on the next read. Returns the bytes freed.
     */
    public long cacheEvict(long keepBytes) {
        return transfer.cacheEvict(keepBytes);
    }

    // ---- durability, fsck, reclaim ------------------------------------------------------------

    /** Makes everything done so far durable (block data, then one metadata commit). */
    public void sync() {
        pool.checkOpen();
        pool.meta.commit();
    }

    /** Recomputes every reference count from every root and compares with what is stored. */
    public FsckReport fsck() {
        pool.checkOpen();
        return new Fsck(pool.meta, pool.tree).run();
    }

    /** Waits until the reclaimer has drained its queue and the freed blocks are durable and free. */
    public boolean awaitReclaim(Duration timeout) {
        return committer.awaitReclaim(timeout);
    }

    /** Commits, stops background work and closes. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        pool.markClosing();
        pool.removeGauges();
        committer.close();
        pool.close();
    }
}
