package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.BlockId;
import io.clonefs.block.BlockStore;
import io.clonefs.block.RemoteFetcher;
import io.clonefs.block.RemoteRef;
import io.clonefs.metadata.Lmdb;
import io.clonefs.metadata.Schema;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The block store as the engine sees it once snapshots can come from an object store: the local
 * block files, plus <em>remote-backed</em> blocks — blocks of imported snapshots whose bytes live
 * in a pack object of a remote and are fetched (and checked against their SHA-256) on first read,
 * then kept in the local block files as a cache that {@link #evict} can drop again.
 *
 * <p>A remote-backed block is an ordinary allocated block id (its place in the block files stays a
 * hole until fetched) with an entry in {@code remote_blocks}. Rules that keep it correct:
 * <ul>
 * <li>it is immutable: {@link #writableInPlace} says no, so a write goes to a new block;</li>
 * <li>an entry is durable before any tree referencing the block can be (the importer registers
 *     entries with {@link #register}, which commits, before putting the extents);</li>
 * <li>when the block is freed, its entry is deleted durably before the block can be handed out
 *     again ({@link #free} defers the local free to the next {@link #sync}); at open, entries of
 *     blocks that are durably free or past the high-water mark are dropped (a crash between the
 *     engine's commit and the entry's deletion);</li>
 * <li>{@code cached=1} is written only after the fetched bytes are synced, and cleared durably
 *     before the bytes are discarded, both under the block's stripe lock.</li>
 * </ul>
 */
final class RemoteTier implements BlockStore {
    /** Blocks fetched around a missed one, from the same pack (push writes packs in file order). */
    static final int READAHEAD_BLOCKS = 32;
    private static final int STRIPES = 256;

    private record Entry(int pack, int slot, byte[] sha256, boolean cached) {
        Entry withCached(boolean c) {
            return new Entry(pack, slot, sha256, c);
        }

        byte[] encode() {
            return ByteBuffer.allocate(4 + 4 + 32 + 1).putInt(pack).putInt(slot).put(sha256).put((byte) (cached ? 1 : 0)).array();
        }

        static Entry decode(byte[] b) {
            ByteBuffer bb = ByteBuffer.wrap(b);
            int pack = bb.getInt();
            int slot = bb.getInt();
            byte[] sha = new byte[32];
            bb.get(sha);
            return new Entry(pack, slot, sha, bb.get() == 1);
        }
    }

    private record Pack(String remote, String key, int maxSlot) {
        byte[] encode() {
            byte[] r = remote.getBytes(StandardCharsets.UTF_8);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(4 + 2 + r.length + k.length).putInt(maxSlot).putShort((short) r.length).put(r).put(k).array();
        }

        static Pack decode(byte[] b) {
            ByteBuffer bb = ByteBuffer.wrap(b);
            int maxSlot = bb.getInt();
            byte[] r = new byte[bb.getShort() & 0xffff];
            bb.get(r);
            byte[] k = new byte[bb.remaining()];
            bb.get(k);
            return new Pack(new String(r, StandardCharsets.UTF_8), new String(k, StandardCharsets.UTF_8), maxSlot);
        }
    }

    private final BlockStore local;
    private final Lmdb lmdb;
    private final RemoteFetcher fetcher;
    private final int bs;
    private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
    private final Map<Integer, Pack> packs = new ConcurrentHashMap<>();
    private final Map<String, Integer> packNumbers = new ConcurrentHashMap<>();
    /** (pack << 32 | slot) → a block of this pool holding that slot, for read-ahead. */
    private final ConcurrentHashMap<Long, Long> bySlot = new ConcurrentHashMap<>();
    private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[STRIPES];
    private final Object pendingLock = new Object();
    private Set<Long> newlyCached = new HashSet<>();
    private List<Long> pendingFree = new ArrayList<>();
    private final AtomicLong cachedBlocks = new AtomicLong();
    private final AtomicLong fetches = new AtomicLong();
    private final AtomicLong fetchedBytes = new AtomicLong();
    private final AtomicLong fetchErrors = new AtomicLong();

    /**
     * @param durableFree the durable free list the block store was opened with
     * @param highWater   the durable high-water mark
     */
    RemoteTier(BlockStore local, Lmdb lmdb, RemoteFetcher fetcher, long[] durableFree, long highWater) {
        this.local = local;
        this.lmdb = lmdb;
        this.fetcher = fetcher;
        this.bs = local.blockSize();
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantReadWriteLock();
        }
        long[] free = durableFree.clone();
        Arrays.sort(free);
        List<byte[]> stale = new ArrayList<>();
        lmdb.read(r -> {
            r.forEach(Schema.Db.REMOTE_PACKS, (k, v) -> {
                int no = ByteBuffer.wrap(k).getInt();
                Pack p = Pack.decode(v);
                packs.put(no, p);
                packNumbers.put(p.remote() + "\0" + p.key(), no);
                return true;
            });
            r.forEach(Schema.Db.REMOTE_BLOCKS, (k, v) -> {
                long id = ByteBuffer.wrap(k).getLong();
                if (id >= highWater || Arrays.binarySearch(free, id) >= 0) {
                    stale.add(k);
                } else {
                    Entry e = Entry.decode(v);
                    entries.put(id, e);
                    bySlot.put(slotKey(e.pack(), e.slot()), id);
                    if (e.cached()) {
                        cachedBlocks.incrementAndGet();
                    }
                }
                return true;
            });
            return null;
        });
        if (!stale.isEmpty()) {
            lmdb.write(w -> stale.forEach(k -> w.delete(Schema.Db.REMOTE_BLOCKS, k)));
        }
    }

    private static long slotKey(int pack, int slot) {
        return ((long) pack << 32) | (slot & 0xffffffffL);
    }

    private ReentrantReadWriteLock stripe(long id) {
        return stripes[(int) ((id ^ (id >>> 17)) & (STRIPES - 1))];
    }

    // ---- import -------------------------------------------------------------------------------

    /** The pack numbers of an import's pack keys, registering new ones (durable on the next {@link #register}). */
    synchronized int[] packNumbers(String remote, List<String> keys) {
        int[] out = new int[keys.size()];
        int next = packs.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        for (int i = 0; i < keys.size(); i++) {
            String k = remote + "\0" + keys.get(i);
            Integer no = packNumbers.get(k);
            if (no == null) {
                no = next++;
                packNumbers.put(k, no);
                packs.put(no, new Pack(remote, keys.get(i), -1));
            }
            out[i] = no;
        }
        return out;
    }

    /**
     * Makes blocks remote-backed, durably, before the caller lets any tree reference them.
     *
     * @param ids   freshly allocated blocks
     * @param refs  where each one's bytes live; {@code refs[i].pack()} already mapped through {@link #packNumbers}
     */
    synchronized void register(long[] ids, RemoteRef[] refs) {
        Map<Integer, Pack> changedPacks = new HashMap<>();
        for (RemoteRef r : refs) {
            Pack p = changedPacks.getOrDefault(r.pack(), packs.get(r.pack()));
            if (p == null) {
                throw new IllegalArgumentException("unknown pack " + r.pack());
            }
            if (r.slot() > p.maxSlot()) {
                changedPacks.put(r.pack(), new Pack(p.remote(), p.key(), r.slot()));
            }
        }
        lmdb.write(w -> {
            changedPacks.forEach((no, p) -> w.put(Schema.Db.REMOTE_PACKS, ByteBuffer.allocate(4).putInt(no).array(), p.encode()));
            for (int i = 0; i < ids.length; i++) {
                w.put(Schema.Db.REMOTE_BLOCKS, ByteBuffer.allocate(8).putLong(ids[i]).array(),
                        new Entry(refs[i].pack(), refs[i].slot(), refs[i].sha256(), false).encode());
            }
        });
        packs.putAll(changedPacks);
        for (int i = 0; i < ids.length; i++) {
            entries.put(ids[i], new Entry(refs[i].pack(), refs[i].slot(), refs[i].sha256(), false));
            bySlot.put(slotKey(refs[i].pack(), refs[i].slot()), ids[i]);
        }
    }

    // ---- BlockStore ---------------------------------------------------------------------------

    @Override
    public int blockSize() {
        return bs;
    }

    @Override
    public BlockId allocate() {
        return local.allocate();
    }

    @Override
    public void free(BlockId id) {
        Entry e = entries.remove(id.value());
        if (e == null) {
            local.free(id);
            return;
        }
        bySlot.remove(slotKey(e.pack(), e.slot()), id.value());
        if (e.cached()) {
            cachedBlocks.decrementAndGet();
        }
        synchronized (pendingLock) {
            newlyCached.remove(id.value());
            pendingFree.add(id.value()); // handed out again only once its entry's deletion is durable
        }
    }

    @Override
    public boolean writableInPlace(BlockId id) {
        return !entries.containsKey(id.value()) && local.writableInPlace(id);
    }

    @Override
    public void read(BlockId id, int offsetInBlock, ByteBuffer dst) {
        Entry e = entries.get(id.value());
        if (e == null) {
            local.read(id, offsetInBlock, dst);
            return;
        }
        ReentrantReadWriteLock l = stripe(id.value());
        if (e.cached()) {
            l.readLock().lock();
            try {
                Entry now = entries.get(id.value());
                if (now != null && now.cached()) {
                    local.read(id, offsetInBlock, dst);
                    return;
                }
            } finally {
                l.readLock().unlock();
            }
        }
        l.writeLock().lock();
        try {
            Entry now = entries.get(id.value());
            if (now != null && !now.cached()) {
                fetch(id.value(), now);
            }
            local.read(id, offsetInBlock, dst);
        } finally {
            l.writeLock().unlock();
        }
    }

    /** One read of the local files when no block of the run is remote-backed; else block by block. */
    @Override
    public void readRun(BlockId first, int offsetInBlock, ByteBuffer dst) {
        long last = first.value() + (offsetInBlock + (long) dst.remaining() - 1) / bs;
        for (long id = first.value(); id <= last; id++) {
            if (entries.containsKey(id)) {
                BlockStore.super.readRun(first, offsetInBlock, dst);
                return;
            }
        }
        local.readRun(first, offsetInBlock, dst);
    }

    /** Under {@code id}'s stripe write lock: fetches the block and a run after it in its pack. */
    private void fetch(long id, Entry e) {
        Pack p = packs.get(e.pack());
        int last = Math.max(e.slot(), Math.min(p.maxSlot(), e.slot() + READAHEAD_BLOCKS - 1));
        int n = last - e.slot() + 1;
        byte[] data;
        try {
            data = fetcher.fetch(p.remote(), p.key(), (long) e.slot() * bs, n * bs);
            if (data == null || data.length != n * bs) {
                throw new IllegalStateException("short read: " + (data == null ? 0 : data.length) + " of " + n * bs + " bytes");
            }
        } catch (RuntimeException ex) {
            fetchErrors.incrementAndGet();
            throw new ClonefsException.IoFailure("cannot fetch block " + id + " from remote " + p.remote() + " (" + p.key()
                    + " slot " + e.slot() + "): " + ex.getMessage(), ex);
        }
        fetches.incrementAndGet();
        fetchedBytes.addAndGet(data.length);
        if (!Arrays.equals(sha256(data, 0), e.sha256())) {
            fetchErrors.incrementAndGet();
            throw new ClonefsException.IoFailure("block " + id + " from remote " + p.remote() + " (" + p.key() + " slot "
                    + e.slot() + ") does not match its SHA-256: not used", null);
        }
        store(id, e, data, 0);
        // read-ahead: the following slots, for blocks of this pool not cached yet (skip any busy one)
        for (int i = 1; i < n; i++) {
            Long other = bySlot.get(slotKey(e.pack(), e.slot() + i));
            if (other == null || other == id) {
                continue;
            }
            ReentrantReadWriteLock ol = stripe(other);
            if (ol == stripe(id) || !ol.writeLock().tryLock()) {
                continue;
            }
            try {
                Entry oe = entries.get(other);
                if (oe != null && !oe.cached() && oe.pack() == e.pack() && oe.slot() == e.slot() + i
                        && Arrays.equals(sha256(data, i * bs), oe.sha256())) {
                    store(other, oe, data, i * bs);
                }
            } finally {
                ol.writeLock().unlock();
            }
        }
    }

    private void store(long id, Entry e, byte[] data, int from) {
        local.write(new BlockId(id), 0, ByteBuffer.wrap(data, from, bs));
        if (entries.replace(id, e, e.withCached(true))) {
            cachedBlocks.incrementAndGet();
            synchronized (pendingLock) {
                newlyCached.add(id);
            }
        }
    }

    private byte[] sha256(byte[] data, int from) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, from, bs);
            return md.digest();
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    @Override
    public void write(BlockId id, int offsetInBlock, ByteBuffer src) {
        if (entries.containsKey(id.value())) {
            throw new IllegalStateException("write into remote-backed " + id + " (immutable)");
        }
        local.write(id, offsetInBlock, src);
    }

    @Override
    public int maxRun(BlockId first) {
        return local.maxRun(first);
    }

    /**
     * Syncs the block files, then records durably which fetched blocks are now safely cached and
     * deletes the entries of freed blocks, then returns those blocks to free space.
     */
    @Override
    public void sync() {
        local.sync();
        Set<Long> cached;
        List<Long> freed;
        synchronized (pendingLock) {
            cached = newlyCached;
            freed = pendingFree;
            newlyCached = new HashSet<>();
            pendingFree = new ArrayList<>();
        }
        if (cached.isEmpty() && freed.isEmpty()) {
            return;
        }
        try {
            lmdb.write(w -> {
                for (long id : cached) {
                    Entry e = entries.get(id);
                    if (e != null && e.cached()) {
                        w.put(Schema.Db.REMOTE_BLOCKS, ByteBuffer.allocate(8).putLong(id).array(), e.encode());
                    }
                }
                for (long id : freed) {
                    w.delete(Schema.Db.REMOTE_BLOCKS, ByteBuffer.allocate(8).putLong(id).array());
                }
            });
        } catch (RuntimeException ex) {
            synchronized (pendingLock) {
                newlyCached.addAll(cached);
                pendingFree.addAll(freed);
            }
            throw ex;
        }
        for (long id : freed) {
            local.free(new BlockId(id));
        }
    }

    /**
     * One file's fsync: its blocks are local (remote-backed blocks are never written), so the
     * local store syncs them; fetched blocks' cached flags wait for the next {@link #sync}.
     */
    @Override
    public void writeBackBlocks(long[] ids, int count) {
        local.writeBackBlocks(ids, count);
    }

    @Override
    public void writeBackBlocks(long[] ids, int count, Runnable whileWriting) {
        local.writeBackBlocks(ids, count, whileWriting);
    }

    @Override
    public void syncBlocks(long[] ids, int count) {
        local.syncBlocks(ids, count);
    }

    @Override
    public long highWater() {
        return local.highWater();
    }

    @Override
    public Stats stats() {
        return local.stats();
    }

    @Override
    public void close() {
        try {
            sync();
        } finally {
            local.close();
        }
    }

    // ---- cache --------------------------------------------------------------------------------

    CacheStatus status() {
        long cached = cachedBlocks.get();
        return new CacheStatus(entries.size(), cached, cached * bs, fetches.get(), fetchedBytes.get(), fetchErrors.get());
    }

    /**
     * Drops cached copies until at most {@code keepBytes} remain: per stripe, under its write lock,
     * the entries are marked uncached durably, then their bytes discarded. Returns bytes freed.
     */
    long evict(long keepBytes) {
        long freed = 0;
        // one pass over the entries: the cached ones, by stripe (re-checked under the stripe's lock)
        Map<Integer, List<Long>> byStripe = new HashMap<>();
        for (Map.Entry<Long, Entry> me : entries.entrySet()) {
            if (me.getValue().cached()) {
                long id = me.getKey();
                byStripe.computeIfAbsent((int) ((id ^ (id >>> 17)) & (STRIPES - 1)), k -> new ArrayList<>()).add(id);
            }
        }
        for (Map.Entry<Integer, List<Long>> st : byStripe.entrySet()) {
            if (cachedBlocks.get() * bs <= keepBytes) {
                break;
            }
            ReentrantReadWriteLock l = stripes[st.getKey()];
            l.writeLock().lock();
            try {
                List<Long> victims = new ArrayList<>();
                long over = cachedBlocks.get() * bs - keepBytes;
                for (long id : st.getValue()) {
                    if ((long) victims.size() * bs >= over) {
                        break;
                    }
                    Entry e = entries.get(id);
                    if (e != null && e.cached()) {
                        victims.add(id);
                    }
                }
                if (victims.isEmpty()) {
                    continue;
                }
                lmdb.write(w -> {
                    for (long id : victims) {
                        Entry e = entries.get(id);
                        if (e != null) {
                            w.put(Schema.Db.REMOTE_BLOCKS, ByteBuffer.allocate(8).putLong(id).array(), e.withCached(false).encode());
                        }
                    }
                });
                for (long id : victims) {
                    Entry e = entries.get(id);
                    if (e != null && e.cached() && entries.replace(id, e, e.withCached(false))) {
                        cachedBlocks.decrementAndGet();
                        synchronized (pendingLock) {
                            newlyCached.remove(id);
                        }
                        local.discard(new BlockId(id));
                        freed += bs;
                    }
                }
            } finally {
                l.writeLock().unlock();
            }
        }
        return freed;
    }
}
