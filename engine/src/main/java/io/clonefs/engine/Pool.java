package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.FileChannels;
import io.clonefs.block.BlockStore;
import io.clonefs.block.FileBlockStore;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.IntentLog;
import io.clonefs.metadata.Lmdb;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle of a pool directory: creating it ({@link #init}), opening it under its lock file
 * ({@link #open}), the stores it holds (LMDB metadata, block files, remote tier), the metadata
 * space reserve, the pool gauges, and closing it. Whatever has the pool open asks
 * {@link #checkOpen} before each operation.
 *
 * <p>Layout of a pool directory: {@code meta/} (the LMDB environment, see
 * {@link io.clonefs.metadata.Schema}), {@code blocks/} (the block files), {@code lock} (held while
 * a process has the pool open) and {@code reserve} (see {@link #ensureReserve}).
 *
 * <p>Thread rules: thread-safe. {@link #ensureReserve} runs at open and then on the committer
 * thread only; {@link #releaseReserve} is called by the metadata store on a full disk.
 */
final class Pool {
    /** At most this many bytes are kept in {@code POOL/reserve} so that metadata can still be committed on a full disk. */
    static final long RESERVE_MAX = 32 << 20;
    /** Engine's logger: the pool's messages keep the category they always had. */
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final String[] GAUGES = {"clonefs_pool_used_bytes", "clonefs_pool_free_bytes",
        "clonefs_blocks_in_use", "clonefs_blocks_free", "clonefs_blocks_shared", "clonefs_metadata_bytes",
        "clonefs_reclaim_backlog_nodes", "clonefs_volumes", "clonefs_snapshots", "clonefs_clones"};

    final MetaStore meta;
    final CowTree tree;
    /** Remote-backed blocks of imported snapshots, under {@code meta}'s block store. */
    final RemoteTier tier;
    final EngineOptions options;
    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private volatile boolean closing;

    private Pool(Path dir, EngineOptions options, FileChannel lockChannel, FileLock lock, MetaStore meta, RemoteTier tier) {
        this.dir = dir;
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.meta = meta;
        this.tree = new CowTree(meta);
        this.tier = tier;
    }

    /** Creates an empty pool in {@code dir} (created if missing; must not hold a pool). */
    static void init(Path dir, int blockSize) {
        if (Integer.bitCount(blockSize) != 1 || blockSize < 4096 || blockSize > (1 << 20)) {
            throw new ClonefsException.InvalidArgument("block size must be a power of two from 4K to 1M, not " + blockSize);
        }
        if (Files.exists(dir.resolve("meta").resolve("data.mdb"))) {
            throw new ClonefsException.AlreadyExists("a pool already exists in " + dir);
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ClonefsException.InvalidArgument(dir + " is not a directory");
        }
        if (Files.isDirectory(dir)) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new ClonefsException.AlreadyExists(dir + " is not empty; a pool needs an empty or new directory");
                }
            } catch (IOException e) {
                throw new ClonefsException.IoFailure("cannot read " + dir + ": " + e.getMessage(), e);
            }
        }
        try {
            Files.createDirectories(dir.resolve("blocks"));
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot create pool directory " + dir + ": " + e.getMessage(), e);
        }
        try (Lmdb lmdb = Lmdb.open(dir.resolve("meta").toFile())) {
            MetaStore.format(lmdb, blockSize);
        }
    }

    /**
     * Takes the pool's lock and opens its stores, then writes the reserve if missing. Only one
     * process may have a pool open at a time. On failure nothing stays open.
     */
    static Pool open(Path dir, EngineOptions options) {
        if (!Files.exists(dir.resolve("meta").resolve("data.mdb"))) {
            throw new ClonefsException.PoolFormat("no clonefs pool in " + dir + " (create one with 'clonefs init')");
        }
        FileChannel ch;
        FileLock fl;
        try {
            ch = FileChannels.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                fl = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                fl = null;
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot lock pool " + dir + ": " + e.getMessage(), e);
        }
        if (fl == null) {
            closeQuietly(ch);
            throw new ClonefsException.Conflict("pool " + dir + " is in use by another process");
        }
        Lmdb lmdb = null;
        try {
            lmdb = Lmdb.open(dir.resolve("meta").toFile());
            // the fsyncs logged before a crash reach LMDB before anything reads it
            Path intentLog = dir.resolve("meta").resolve(IntentLog.FILE_NAME);
            // (the block size never changes: read before the log is applied)
            int loggedBlockSize = (int) MetaStore.readHeader(lmdb)[1];
            long logGeneration = IntentLog.recover(lmdb, intentLog,
                    FileBlockStore.recoveryWriter(dir.resolve("blocks"), loggedBlockSize));
            long[] header = MetaStore.readHeader(lmdb);
            int blockSize = (int) header[1];
            long[] free = MetaStore.readFreeBlocks(lmdb);
            FileBlockStore files = FileBlockStore.open(dir.resolve("blocks"), blockSize, header[2], free);
            files.setFreeSpaceFloor(reserveBytes(dir));
            BlockStore local = options.blockStoreDecorator().apply(files);
            RemoteTier tier = new RemoteTier(local, lmdb, options.remoteFetcher(), free, header[2]);
            MetaStore meta = MetaStore.open(lmdb, tier, options.nodeCacheSize());
            if (!Boolean.getBoolean("clonefs.metadata.noIntentLog")) {
                meta.useIntentLog(IntentLog.open(intentLog, logGeneration, IntentLog.DEFAULT_CAPACITY));
            }
            Pool p = new Pool(dir, options, ch, fl, meta, tier);
            meta.setSpaceReserve(p::releaseReserve);
            meta.setLmdbFlushesBlockDisk(sameFilesystem(dir.resolve("meta"), dir.resolve("blocks")));
            p.ensureReserve();
            return p;
        } catch (RuntimeException ex) {
            if (lmdb != null) {
                lmdb.close();
            }
            closeQuietly(ch);
            throw ex;
        }
    }

    /**
     * Releases what {@link #open} took after a later step of opening failed: the stores and the
     * lock, without a final commit.
     */
    void abandon() {
        meta.lmdb().close();
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to do: the lock goes with the channel
        }
    }

    private static boolean sameFilesystem(Path a, Path b) {
        try {
            return Files.getAttribute(a, "unix:dev").equals(Files.getAttribute(b, "unix:dev"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    Path directory() {
        return dir;
    }

    int blockSize() {
        return meta.blockSize();
    }

    /** Throws once {@link #markClosing} was called: the pool takes no more operations. */
    void checkOpen() {
        if (closing) {
            throw new ClonefsException.IoFailure("pool " + dir + " is closed", null);
        }
    }

    boolean closing() {
        return closing;
    }

    /** From now on {@link #checkOpen} refuses, and the background threads stop at their next step. */
    void markClosing() {
        closing = true;
    }

    // ---- the metadata reserve ----------------------------------------------------------------

    /**
     * 1/64 of the pool's filesystem, from 256 KiB to {@link #RESERVE_MAX}: the size of the reserve
     * file, and the free space new data blocks leave to metadata (the block store's floor).
     */
    static long reserveBytes(Path dir) {
        long total;
        try {
            total = Files.getFileStore(dir).getTotalSpace();
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read the size of " + dir + "'s disk: " + e.getMessage(), e);
        }
        return Math.max(256 << 10, Math.min(RESERVE_MAX, (total / 64) & ~((1L << 16) - 1)));
    }

    /**
     * Writes the reserve file if it is missing and the disk has room for it and more: a full disk
     * then still lets a destroy commit, after which writers reuse the freed blocks.
     */
    void ensureReserve() {
        Path reserve = dir.resolve("reserve");
        if (Files.exists(reserve)) {
            return;
        }
        try {
            long bytes = reserveBytes(dir);
            if (Files.getFileStore(dir).getUsableSpace() < 4 * bytes) {
                return;
            }
            Path tmp = dir.resolve("reserve.tmp");
            try (FileChannel f = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer zeros = ByteBuffer.allocate(1 << 16);
                for (long written = 0; written < bytes; written += zeros.capacity()) {
                    zeros.clear();
                    while (zeros.hasRemaining()) {
                        f.write(zeros);
                    }
                }
                f.force(true);
            }
            Files.move(tmp, reserve, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | ClonefsException e) {
            log.warn("cannot write the metadata reserve {}: {}", reserve, e.getMessage());
            try {
                Files.deleteIfExists(dir.resolve("reserve.tmp"));
            } catch (IOException ignored) {
                // nothing more to free
            }
        }
    }

    /** Deletes the reserve file (the disk is full and a commit needs room); true if it existed. */
    boolean releaseReserve() {
        try {
            boolean had = Files.deleteIfExists(dir.resolve("reserve"));
            if (had) {
                log.warn("pool {}: disk full; released the metadata reserve so that commits go on", dir);
            }
            return had;
        } catch (IOException e) {
            return false;
        }
    }

    // ---- space and gauges --------------------------------------------------------------------

    /** Space used and free in the whole pool. */
    SpaceInfo space() {
        var s = tier.stats();
        long bs = blockSize();
        long inUse = s.highWater() - s.freeBlocks();
        long metaBytes = meta.lmdb().fileBytes();
        int backlog;
        synchronized (meta) {
            backlog = meta.reclaimBacklog();
        }
        return new SpaceInfo((int) bs, inUse * bs + metaBytes, s.freeBlocks() * bs + s.diskFree(),
                inUse, s.freeBlocks(), metaBytes, backlog);
    }

    /** Pool gauges in the process registry, read when scraped; the dataset counts come from {@code datasets}. */
    void registerGauges(Datasets datasets) {
        Metrics m = Metrics.process();
        m.gauge(GAUGES[0], "Bytes of blocks in use plus metadata.", null, null, () -> space().usedBytes());
        m.gauge(GAUGES[1], "Bytes writers can still use.", null, null, () -> space().freeBytes());
        m.gauge(GAUGES[2], "Data blocks in use.", null, null, () -> space().blocksInUse());
        m.gauge(GAUGES[3], "Free blocks in the block files.", null, null, () -> space().blocksFree());
        m.gauge(GAUGES[4], "Data blocks referenced more than once (shared between trees).", null, null, () -> {
            synchronized (meta) {
                return meta.blockCountsNotOne().values().stream().filter(c -> c > 1).count();
            }
        });
        m.gauge(GAUGES[5], "Size of the LMDB metadata file.", null, null, () -> space().metadataBytes());
        m.gauge(GAUGES[6], "Tree nodes waiting for the reclaimer.", null, null, () -> space().reclaimBacklog());
        m.gauge(GAUGES[7], "Volumes (clones included).", null, null, () -> datasets.volumes().size());
        m.gauge(GAUGES[8], "Snapshots.", null, null, () -> datasets.snapshots().size());
        m.gauge(GAUGES[9], "Volumes cloned from a snapshot.", null, null,
                () -> datasets.volumes().stream().filter(v -> v.origin() != null).count());
    }

    void removeGauges() {
        for (String g : GAUGES) {
            Metrics.process().remove(g);
        }
    }

    /** Closes the metadata store (a final commit) and releases the pool's lock. Once, after the background threads stopped. */
    void close() {
        try {
            meta.close();
        } finally {
            try {
                lock.release();
            } catch (IOException e) {
                // released with the channel below
            }
            closeQuietly(lockChannel);
        }
    }
}
