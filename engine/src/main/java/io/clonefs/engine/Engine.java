package io.clonefs.engine;

import io.clonefs.base.SnapshotName;
import io.clonefs.base.ClonefsException;
import io.clonefs.block.BlockStore;
import io.clonefs.block.FileBlockStore;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.Lmdb;
import io.clonefs.metadata.MetaStore;
import io.clonefs.metadata.Node;
import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open pool: volumes, snapshots and clones over shared, refcounted blocks.
 *
 * <p>Layout of a pool directory: {@code meta/} (the LMDB environment, see
 * {@link io.clonefs.metadata.Schema}), {@code blocks/} (the block files) and {@code lock} (held
 * while a process has the pool open).
 *
 * <p>Snapshot, clone and destroy are O(1) in data size: a snapshot or clone is a new root record
 * pointing at the same tree root, whose count goes up by one; destroy hands the root's reference
 * to the background reclaimer. A snapshot waits at a barrier for in-flight writes (whose data I/O
 * spans several steps), so it is atomic across the whole volume.
 *
 * <p>Thread rules: thread-safe. Two background threads: the group committer (commits dirty
 * metadata every {@link EngineOptions#commitIntervalMillis()} and under memory pressure) and the
 * reclaimer.
 */
public final class Engine implements AutoCloseable {
    public static final int DEFAULT_BLOCK_SIZE = 8192;
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    final MetaStore meta;
    final CowTree tree;
    final ReentrantReadWriteLock barrier = new ReentrantReadWriteLock();
    final InodeLocks inodeLocks = new InodeLocks();
    private final Path dir;
    private final EngineOptions options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ConcurrentHashMap<String, Volume> views = new ConcurrentHashMap<>();
    private final Object wake = new Object();
    private final Thread committer;
    private final Thread reclaimer;
    private volatile boolean closing;
    private boolean closed;

    /** Remote-backed blocks of imported snapshots, under {@code meta}'s block store. */
    private final RemoteTier tier;
    private final VolumeContext volumeContext;

    private Engine(Path dir, EngineOptions options, FileChannel lockChannel, FileLock lock, MetaStore meta, RemoteTier tier) {
        this.tier = tier;
        this.dir = dir;
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.meta = meta;
        this.tree = new CowTree(meta);
        this.volumeContext = new VolumeContext(meta, tree, tier, barrier, inodeLocks, this::afterChange);
        this.committer = new Thread(this::commitLoop, "clonefs-committer");
        this.reclaimer = new Thread(this::reclaimLoop, "clonefs-reclaimer");
        committer.setDaemon(true);
        reclaimer.setDaemon(true);
    }

    /** Creates an empty pool in {@code dir} (created if missing; must not hold a pool). */
    public static void init(Path dir, int blockSize) {
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

    /** Opens a pool; only one process (and one Engine) may have a pool open at a time. */
    public static Engine open(Path dir, EngineOptions options) {
        if (!Files.exists(dir.resolve("meta").resolve("data.mdb"))) {
            throw new ClonefsException.PoolFormat("no clonefs pool in " + dir + " (create one with 'clonefs init')");
        }
        FileChannel ch;
        FileLock fl;
        try {
            ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
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
            long[] header = MetaStore.readHeader(lmdb);
            int blockSize = (int) header[1];
            long[] free = MetaStore.readFreeBlocks(lmdb);
            FileBlockStore files = FileBlockStore.open(dir.resolve("blocks"), blockSize, header[2], free);
            files.setFreeSpaceFloor(reserveBytes(dir));
            BlockStore local = options.blockStoreDecorator().apply(files);
            RemoteTier tier = new RemoteTier(local, lmdb, options.remoteFetcher(), free, header[2]);
            MetaStore meta = MetaStore.open(lmdb, tier, options.nodeCacheSize());
            Engine e = new Engine(dir, options, ch, fl, meta, tier);
            meta.setSpaceReserve(e::releaseReserve);
            meta.setLmdbFlushesBlockDisk(sameFilesystem(dir.resolve("meta"), dir.resolve("blocks")));
            e.ensureReserve();
            e.recover();
            e.registerGauges();
            e.committer.start();
            e.reclaimer.start();
            return e;
        } catch (RuntimeException ex) {
            if (lmdb != null) {
                lmdb.close();
            }
            closeQuietly(ch);
            throw ex;
        }
    }

    public static Engine open(Path dir) {
        return open(dir, EngineOptions.defaults());
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

    /** At most this many bytes are kept in {@code POOL/reserve} so that metadata can still be committed on a full disk. */
    static final long RESERVE_MAX = 32 << 20;
    private long reserveCheckedNanos;

    /**
     * 1/64 of the pool's filesystem, from 256 KiB to {@link #RESERVE_MAX}: the size of the reserve
     * file, and the free space new data blocks leave to metadata (the block store's floor).
     */
    private static long reserveBytes(Path dir) {
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
    private void ensureReserve() {
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
            Files.move(tmp, reserve, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
    private boolean releaseReserve() {
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

    /** Purges inodes that were open-but-unlinked when the pool was last closed or crashed. */
    private void recover() {
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

    private static final String[] GAUGES = {"clonefs_pool_used_bytes", "clonefs_pool_free_bytes",
        "clonefs_blocks_in_use", "clonefs_blocks_free", "clonefs_blocks_shared", "clonefs_metadata_bytes",
        "clonefs_reclaim_backlog_nodes", "clonefs_volumes", "clonefs_snapshots", "clonefs_clones"};

    /** Pool gauges in the process registry, read when scraped. */
    private void registerGauges() {
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
        m.gauge(GAUGES[7], "Volumes (clones included).", null, null, () -> volumes().size());
        m.gauge(GAUGES[8], "Snapshots.", null, null, () -> snapshots().size());
        m.gauge(GAUGES[9], "Volumes cloned from a snapshot.", null, null,
                () -> volumes().stream().filter(v -> v.origin() != null).count());
    }

    public Path directory() {
        return dir;
    }

    public int blockSize() {
        return meta.blockSize();
    }

    // ---- remote tier: export, import, cache ---------------------------------------------------

    /**
     * Visits every tree item of a snapshot ({@code volume@snap}) in key order: the inodes, directory
     * entries, symlink targets and extents that make up its files. An extent's block is
     * {@code Keys.blockRef(key, value)}; read it with {@link #readBlock}. The snapshot is immutable,
     * so the walk sees one consistent state; it must not be destroyed meanwhile.
     */
    public void exportSnapshot(String snapshot, io.clonefs.metadata.CowTree.ItemVisitor visitor) {
        Names.splitSnapshot(snapshot);
        checkOpen();
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
                    return slice.size() < 4096;
                });
            }
            for (byte[][] kv : slice) {
                if (!visitor.visit(kv[0], kv[1])) {
                    return;
                }
            }
            if (slice.size() < 4096) {
                return;
            }
            byte[] last = slice.get(slice.size() - 1)[0];
            from = Arrays.copyOf(last, last.length + 1); // the next key after the last one
        }
    }

    /** Reads one whole block ({@code dst.remaining() == blockSize()}) by its id, fetching it if remote-backed. */
    public void readBlock(long blockId, java.nio.ByteBuffer dst) {
        checkOpen();
        if (dst.remaining() != blockSize()) {
            throw new ClonefsException.InvalidArgument("readBlock wants a buffer of one block (" + blockSize() + " bytes)");
        }
        tier.read(new io.clonefs.base.BlockId(blockId), 0, dst);
    }

    /** Datasets being imported: hidden from every listing, dropped at open if a crash cut them off. */
    static final String IMPORT_PREFIX = ".import-";
    private static final int IMPORT_BATCH = 8192;

    /**
     * Creates volume {@code volume} holding exactly the given items (as {@link #exportSnapshot} gave
     * them, extents carrying a {@link io.clonefs.block.RemoteRef} into {@code packKeys}), then its
     * snapshot {@code volume@snapshot}. No block is fetched: extents point at remote-backed blocks,
     * read from {@code remote} on first use and cached locally. Durable on return. Refused (nothing
     * changed) if the volume exists; if the items fail (an exception from the iterator), nothing is
     * left behind either.
     */
    public SnapshotInfo importSnapshot(String volume, String snapshot, String remote, java.util.List<String> packKeys,
                                       java.util.Iterator<ImportItem> items) {
        Names.checkDataset("volume", volume);
        Names.checkDataset("snapshot", snapshot);
        checkOpen();
        int[] packNo = tier.packNumbers(remote, packKeys);
        String tmp;
        synchronized (meta) {
            if (meta.dataset(volume) != null) {
                throw new ClonefsException.AlreadyExists("volume '" + volume + "' already exists");
            }
            long dsId = meta.newDatasetId();
            tmp = IMPORT_PREFIX + dsId;
            meta.putDataset(new DatasetRecord(tmp, false, dsId, meta.newTree(), System.currentTimeMillis(), ""));
        }
        boolean done = false;
        try {
            Volume v = view(tmp);
            List<ImportItem> batch = new ArrayList<>(IMPORT_BATCH);
            boolean sawSuper = false;
            while (items.hasNext()) {
                ImportItem it = items.next();
                sawSuper |= io.clonefs.metadata.Keys.type(it.key()) == io.clonefs.metadata.Keys.SUPER;
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
            String full = volume + "@" + snapshot;
            synchronized (meta) {
                if (meta.dataset(volume) != null) {
                    throw new ClonefsException.AlreadyExists("volume '" + volume + "' already exists");
                }
                DatasetRecord r = meta.dataset(tmp);
                meta.removeDataset(tmp);
                views.remove(tmp);
                long now = System.currentTimeMillis();
                meta.putDataset(new DatasetRecord(volume, false, r.id(), r.root(), now, ""));
                meta.incNode(r.root());
                meta.putDataset(new DatasetRecord(full, true, meta.newDatasetId(), r.root(), now, ""));
            }
            meta.commit();
            done = true;
            return snapshotInfo(full);
        } finally {
            if (!done) {
                synchronized (meta) {
                    DatasetRecord r = meta.dataset(tmp);
                    if (r != null) {
                        meta.removeDataset(tmp);
                        views.remove(tmp);
                        meta.enqueueReclaim(r.root());
                    }
                }
                try {
                    meta.commit();
                } catch (RuntimeException ignored) {
                    // the original failure is what the caller needs; open() cleans up after a crash
                }
                synchronized (wake) {
                    wake.notifyAll();
                }
            }
        }
    }

    /** Allocates and registers (durably) the batch's remote-backed blocks, then puts its items. */
    private void importBatch(Volume v, List<ImportItem> batch, int[] packNo) {
        if (batch.isEmpty()) {
            return;
        }
        int extents = 0;
        for (ImportItem it : batch) {
            if (io.clonefs.metadata.Keys.blockRef(it.key(), new byte[8]) >= 0) {
                if (it.ref() == null) {
                    throw new ClonefsException.InvalidArgument("imported extent without a remote reference");
                }
                if (it.ref().pack() >= packNo.length) {
                    throw new ClonefsException.InvalidArgument("imported extent names pack " + it.ref().pack() + " of " + packNo.length);
                }
                extents++;
            }
        }
        long[] ids = new long[extents];
        io.clonefs.block.RemoteRef[] refs = new io.clonefs.block.RemoteRef[extents];
        synchronized (meta) {
            for (int i = 0; i < extents; i++) {
                ids[i] = meta.allocateBlock().value();
            }
        }
        int j = 0;
        for (ImportItem it : batch) {
            if (io.clonefs.metadata.Keys.blockRef(it.key(), new byte[8]) >= 0) {
                refs[j] = new io.clonefs.block.RemoteRef(packNo[it.ref().pack()], it.ref().slot(), it.ref().sha256());
                j++;
            }
        }
        try {
            tier.register(ids, refs);
        } catch (RuntimeException e) {
            synchronized (meta) {
                for (long id : ids) {
                    meta.abandonBlock(new io.clonefs.base.BlockId(id));
                }
            }
            throw e;
        }
        j = 0;
        synchronized (meta) {
            for (ImportItem it : batch) {
                byte[] value = it.value();
                if (io.clonefs.metadata.Keys.blockRef(it.key(), new byte[8]) >= 0) {
                    value = io.clonefs.metadata.Schema.u64(ids[j++]);
                }
                v.importItem(it.key(), value);
            }
        }
        afterChange();
    }

    /** The local cache of remote-backed blocks. */
    public CacheStatus cacheStatus() {
        checkOpen();
        return tier.status();
    }

    /**
     * Drops cached copies of remote-backed blocks until at most {@code keepBytes} stay on local
     * disk (0: all); they are fetched again on the next read. Returns the bytes freed.
     */
    public long cacheEvict(long keepBytes) {
        checkOpen();
        if (keepBytes < 0) {
            throw new ClonefsException.InvalidArgument("bytes to keep must not be negative");
        }
        return tier.evict(keepBytes);
    }

    // ---- datasets -----------------------------------------------------------------------------

    private Volume view(String name) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(name);
            if (r == null) {
                throw new ClonefsException.NotFound((Names.isSnapshotName(name) ? "snapshot '" : "volume '") + name + "' does not exist");
            }
            Volume v = views.get(name);
            if (v == null || v.datasetId() != r.id()) {
                v = new Volume(volumeContext, r);
                views.put(name, v);
            }
            return v;
        }
    }

    /** Creates an empty volume (root directory owned by root, mode 0755). Durable on return. */
    public VolumeInfo createVolume(String name) {
        Names.checkDataset("volume", name);
        checkOpen();
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

    /** Takes a crash-consistent snapshot of a volume at this instant. O(1). Durable on return. */
    public SnapshotInfo snapshot(String volume, String snapshot) {
        Names.checkDataset("volume", volume);
        Names.checkDataset("snapshot", snapshot);
        checkOpen();
        String full = volume + "@" + snapshot;
        barrier.writeLock().lock();
        try {
            synchronized (meta) {
                DatasetRecord v = meta.dataset(volume);
                if (v == null) {
                    throw new ClonefsException.NotFound("volume '" + volume + "' does not exist");
                }
                if (meta.dataset(full) != null) {
                    throw new ClonefsException.AlreadyExists("snapshot '" + full + "' already exists");
                }
                meta.incNode(v.root());
                meta.putDataset(new DatasetRecord(full, true, meta.newDatasetId(), v.root(), System.currentTimeMillis(), ""));
            }
        } finally {
            barrier.writeLock().unlock();
        }
        meta.commit();
        return snapshotInfo(full);
    }

    /** Creates a volume from a snapshot ({@code volume@snap}). O(1). Durable on return. */
    public VolumeInfo cloneVolume(String snapshot, String newVolume) {
        Names.splitSnapshot(snapshot);
        Names.checkDataset("volume", newVolume);
        checkOpen();
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

    /**
     * Destroys a volume or a snapshot ({@code volume@snap}). Refused with
     * {@link ClonefsException.Conflict} while it has dependants (a volume's snapshots, a snapshot's
     * clones) unless {@code recursive}, which destroys them too. Returns at once; blocks are
     * reclaimed in the background.
     */
    public void destroy(String name, boolean recursive) {
        if (Names.isSnapshotName(name)) {
            Names.splitSnapshot(name);
        } else {
            Names.checkDataset("volume", name);
        }
        checkOpen();
        synchronized (meta) {
            if (meta.dataset(name) == null) {
                throw new ClonefsException.NotFound((Names.isSnapshotName(name) ? "snapshot '" : "volume '") + name + "' does not exist");
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
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void collect(String name, boolean recursive, LinkedHashSet<String> out) {
        List<String> deps = dependants(name);
        if (!deps.isEmpty() && !recursive) {
            String what = Names.isSnapshotName(name) ? "snapshot '" + name + "' has clones: " : "volume '" + name + "' has snapshots: ";
            throw new ClonefsException.Conflict(what + String.join(", ", deps) + " (destroy them first, or destroy recursively)");
        }
        for (String d : deps) {
            collect(d, true, out);
        }
        out.add(name);
    }

    private List<String> dependants(String name) {
        List<String> out = new ArrayList<>();
        for (DatasetRecord r : meta.datasets()) {
            if (Names.isSnapshotName(name) ? (!r.snapshot() && r.origin().equals(name))
                    : (r.snapshot() && r.name().startsWith(name + "@"))) {
                out.add(r.name());
            }
        }
        return out;
    }

    public List<VolumeInfo> volumes() {
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

    public List<SnapshotInfo> snapshots() {
        synchronized (meta) {
            List<SnapshotInfo> out = new ArrayList<>();
            for (DatasetRecord r : meta.datasets()) {
                if (r.snapshot()) {
                    out.add(snapshotInfo(r));
                }
            }
            return out;
        }
    }

    public VolumeInfo volumeInfo(String name) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(name);
            if (r == null || r.snapshot()) {
                throw new ClonefsException.NotFound("volume '" + name + "' does not exist");
            }
            return volumeInfo(r);
        }
    }

    public SnapshotInfo snapshotInfo(String fullName) {
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
                Instant.ofEpochMilli(r.createdMs()), referencedBlocks(r.root()) * blockSize());
    }

    private SnapshotInfo snapshotInfo(DatasetRecord r) {
        SnapshotName parts = Names.splitSnapshot(r.name());
        return new SnapshotInfo(r.name(), parts.volume(), parts.snapshot(), r.id(), Instant.ofEpochMilli(r.createdMs()),
                referencedBlocks(r.root()) * blockSize(), dependants(r.name()));
    }

    private long referencedBlocks(long root) {
        byte[] v = tree.get(root, Keys.superKey());
        return ByteBuffer.wrap(v).getLong(8);
    }

    /** The writable filesystem of a volume. */
    public VolumeFs volume(String name) {
        checkOpen();
        if (Names.isSnapshotName(name)) {
            throw new ClonefsException.InvalidArgument("'" + name + "' is a snapshot; volumes have no '@'");
        }
        Names.checkDataset("volume", name);
        return view(name);
    }

    /** The read-only filesystem of a snapshot ({@code volume@snap}). */
    public VolumeFs snapshotFs(String fullName) {
        checkOpen();
        Names.splitSnapshot(fullName);
        return view(fullName);
    }

    // ---- space --------------------------------------------------------------------------------

    public SpaceInfo space() {
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

    /** Referenced and unique bytes of a volume or snapshot; unique costs a walk of what it alone owns. */
    public VolumeSpace space(String name) {
        synchronized (meta) {
            DatasetRecord r = meta.dataset(name);
            if (r == null) {
                throw new ClonefsException.NotFound("'" + name + "' does not exist");
            }
            long unique = meta.nodeRefCount(r.root()) == 1
                    ? uniqueBlocks(r.root(), meta.nodeCountsNotOne(), meta.blockCountsNotOne()) : 0;
            return new VolumeSpace(name, referencedBlocks(r.root()) * blockSize(), unique * blockSize());
        }
    }

    /** Blocks reachable from {@code id} through nodes of count 1 that have count 1 themselves. */
    private long uniqueBlocks(long id, Map<Long, Long> nodeCounts, Map<Long, Long> blockCounts) {
        Node n = meta.load(id);
        long sum = 0;
        for (int i = 0; i < n.count(); i++) {
            if (n.isLeaf()) {
                long b = Keys.blockRef(n.key(i), n.value(i));
                if (b >= 0 && !blockCounts.containsKey(b)) {
                    sum++;
                }
            } else if (!nodeCounts.containsKey(n.child(i))) {
                sum += uniqueBlocks(n.child(i), nodeCounts, blockCounts);
            }
        }
        return sum;
    }

    // ---- durability, fsck, reclaim ------------------------------------------------------------

    /** Makes everything done so far durable (block data, then one metadata commit). */
    public void sync() {
        checkOpen();
        meta.commit();
    }

    /** Recomputes every reference count from every root and compares with what is stored. */
    public FsckReport fsck() {
        checkOpen();
        return new Fsck(this).run();
    }

    /** Waits until the reclaimer has drained its queue and the freed blocks are durable and free. */
    public boolean awaitReclaim(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean idle;
            synchronized (meta) {
                idle = meta.reclaimBacklog() == 0;
            }
            if (idle) {
                meta.commit();
                synchronized (meta) {
                    if (meta.reclaimBacklog() == 0 && meta.pendingFreeBlocks() == 0) {
                        return true;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            synchronized (wake) {
                wake.notifyAll();
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Called after data changes: wakes the committer under memory pressure. */
    void afterChange() {
        if (meta.dirtyNodeCount() > options.maxDirtyNodes()) {
            synchronized (wake) {
                wake.notifyAll();
            }
        }
    }

    private void commitLoop() {
        long interval = options.commitIntervalMillis();
        while (!closing) {
            try {
                synchronized (wake) {
                    wake.wait(interval > 0 ? interval : 1000);
                }
                if (closing) {
                    return;
                }
                boolean pressure = meta.dirtyNodeCount() > options.maxDirtyNodes();
                if ((interval > 0 || pressure) && meta.hasChanges()) {
                    meta.commit();
                }
                if (System.nanoTime() - reserveCheckedNanos > 30_000_000_000L) {
                    reserveCheckedNanos = System.nanoTime();
                    ensureReserve();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("group commit failed; will retry", e);
            }
        }
    }

    private void reclaimLoop() {
        while (!closing) {
            try {
                int done = 0;
                if (options.reclaim()) {
                    synchronized (meta) {
                        long id;
                        while (done < 256 && (id = meta.pollReclaim()) >= 0) {
                            tree.dropReference(id);
                            done++;
                        }
                    }
                }
                if (done == 0) {
                    synchronized (wake) {
                        wake.wait(200);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("reclaim step failed; will retry", e);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void checkOpen() {
        if (closing) {
            throw new ClonefsException.IoFailure("pool " + dir + " is closed", null);
        }
    }

    /** Commits, stops background work and closes. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        for (String g : GAUGES) {
            Metrics.process().remove(g);
        }
        // Wake the background threads instead of interrupting them: an interrupt that lands
        // inside a FileChannel write or force closes the channel (ClosedByInterruptException),
        // and the final commit below then failed with "sync of block file N failed".
        synchronized (wake) {
            wake.notifyAll();
        }
        try {
            committer.join(10_000);
            reclaimer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
