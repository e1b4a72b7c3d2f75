package io.clonefs.remote;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.clonefs.api.PushResult;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import io.clonefs.block.RemoteRef;
import io.clonefs.engine.Engine;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.engine.SnapshotItem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes one snapshot to a remote (see docs/design.md, "Remotes"). Blocks are packed
 * {@link #PACK_BLOCKS} to an object, uploaded as packs fill (a few at a time); a block already on
 * the remote is not uploaded again: found by block id when an earlier push of a snapshot that
 * still exists here recorded it, else by SHA-256 among every block pushed to this remote. Each
 * uploaded pack is journaled, so an interrupted push resumes without uploading it again. The
 * manifest is written last.
 */
public final class Pusher {
    private static final Logger LOG = LoggerFactory.getLogger(Pusher.class);
    public static final int PACK_BLOCKS = 512;
    private static final int UPLOAD_THREADS = 3;
    private static final int MAX_IN_FLIGHT = 4;

    /** A block's place on the remote as recorded by an earlier push: full pack key, slot, SHA-256. */
    record Ref(String key, int slot, byte[] sha256) {
    }

    /** A block's place in this push's manifest: index into its pack list. */
    record Place(int pack, int slot, byte[] sha256) {
    }

    /** The remote-wide marker {@code P/clonefs.json}: every snapshot on a remote has one block size. */
    record Marker(int format, int blockSize) {
    }

    private final Engine engine;
    private final Remotes remotes;
    private final Remotes.Remote remote;
    private final SnapshotInfo snap;
    private final int bs;
    private final PushProgress progress;

    private Pusher(Engine engine, Remotes remotes, Remotes.Remote remote, SnapshotInfo snap) {
        this.engine = engine;
        this.remotes = remotes;
        this.remote = remote;
        this.snap = snap;
        this.bs = engine.blockSize();
        this.progress = new PushProgress(remote.config().name(), snap.name(), Math.max(0, snap.referencedBytes() / bs));
    }

    /** Checks the remote and the snapshot exist; no I/O on the object store yet. */
    public static Pusher prepare(Engine engine, Remotes remotes, String snapshot, String remoteName) {
        SnapshotName.parse(snapshot);
        Remotes.Remote r = remotes.get(remoteName);
        SnapshotInfo s = engine.snapshotInfo(snapshot);
        return new Pusher(engine, remotes, r, s);
    }

    public PushProgress progress() {
        return progress;
    }

    public PushResult run() {
        long t0 = System.nanoTime();
        RemoteConfig cfg = remote.config();
        try (S3Store store = new S3Store(cfg, remote.credentials())) {
            String manifestKey = cfg.manifestKey(snap.volume(), snap.snapshot());
            Path pushedFile = remotes.pushedDir(cfg.name()).resolve(Long.toString(snap.id()));
            Path journalFile = remotes.journal(cfg.name(), snap.name());
            checkMarker(store);
            if (store.exists(manifestKey)) {
                if (Files.isRegularFile(pushedFile)) {
                    Manifest m = Manifest.parse(store.get(manifestKey), manifestKey);
                    return new PushResult(snap.name(), cfg.name(), manifestKey, true, m.counts().items(), m.counts().blocks(),
                            0, 0, m.packs().size(), 0, seconds(t0));
                }
                if (!Files.isRegularFile(journalFile)) {
                    throw new ClonefsException.AlreadyExists("remote " + cfg.name() + " already holds " + snap.name()
                            + ", not pushed from this snapshot (pushed from another pool, or from an earlier snapshot of that name)");
                }
            }
            // the gc protocol (RemoteGc): announce the push, wait while a gc sweeps, then decide what to reuse
            try (RemoteGc.PushGuard guard = RemoteGc.PushGuard.announce(store, snap.name(), () -> progress.phase = "waiting for a gc")) {
                return push(store, guard, manifestKey, pushedFile, journalFile, t0);
            }
        }
    }

    private void checkMarker(S3Store store) {
        String key = remote.config().key("clonefs.json");
        if (store.exists(key)) {
            Marker m;
            try {
                m = Remotes.JSON.readValue(store.get(key), Marker.class);
            } catch (IOException e) {
                throw new ClonefsException.InvalidArgument(key + " on remote " + remote.config().name() + " is not clonefs's: " + e.getMessage());
            }
            if (m.blockSize() != bs) {
                throw new ClonefsException.InvalidArgument("block size mismatch: remote " + remote.config().name() + " holds "
                        + m.blockSize() + "-byte blocks, this pool uses " + bs + "-byte blocks");
            }
        } else {
            try {
                store.put(key, Remotes.JSON.writeValueAsBytes(new Marker(Manifest.FORMAT, bs)), "application/json");
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private PushResult push(S3Store store, RemoteGc.PushGuard guard, String manifestKey, Path pushedFile, Path journalFile, long t0) {
        RemoteConfig cfg = remote.config();
        // a pack an earlier push recorded may have been removed by a gc since (its snapshots deleted)
        Set<String> present = new HashSet<>();
        store.list(cfg.key("packs/")).forEach(o -> present.add(o.key()));
        int[] gone = new int[1];
        // what the remote already holds
        Set<Long> liveSnapshots = new HashSet<>();
        engine.snapshots().forEach(s -> liveSnapshots.add(s.id()));
        Map<Long, Ref> priorByBlock = new HashMap<>();
        Map<ByteBuffer, Ref> priorByHash = new HashMap<>();
        for (PushedIndex pi : PushedIndex.readAll(remotes.pushedDir(cfg.name()))) {
            if (pi.blockSize() != bs) {
                continue;
            }
            boolean live = liveSnapshots.contains(pi.datasetId());
            for (int i = 0; i < pi.size(); i++) {
                Ref r = new Ref(pi.packs().get(pi.packIndex()[i]), pi.slots()[i], pi.sha256()[i]);
                if (!present.contains(r.key())) {
                    gone[0]++;
                    continue;
                }
                if (live) {
                    priorByBlock.put(pi.blockIds()[i], r);
                }
                priorByHash.putIfAbsent(ByteBuffer.wrap(r.sha256()), r);
            }
        }
        PushJournal journal = PushJournal.open(journalFile, snap.id(), bs, snap.name());
        List<PushJournal.PackRecord> resumed = journal.packs();
        for (PushJournal.PackRecord pr : resumed) {
            if (!present.contains(pr.key())) {
                gone[0] += pr.blockIds().length;
                continue;
            }
            for (int i = 0; i < pr.blockIds().length; i++) {
                Ref r = new Ref(pr.key(), i, pr.sha256()[i]);
                priorByBlock.put(pr.blockIds()[i], r); // the snapshot is the same dataset: its blocks are unchanged
                priorByHash.putIfAbsent(ByteBuffer.wrap(r.sha256()), r);
            }
        }
        if (gone[0] > 0) {
            LOG.info("push of {} to {}: {} block places recorded by earlier pushes are in packs no longer on the remote (gc): not reused",
                    snap.name(), cfg.name(), gone[0]);
        }
        if (!resumed.isEmpty()) {
            LOG.info("resuming push of {} to {}: {} packs already uploaded", snap.name(), cfg.name(), resumed.size());
        }
        ExecutorService uploads = Executors.newFixedThreadPool(UPLOAD_THREADS, r -> {
            Thread t = new Thread(r, "clonefs-push-upload");
            t.setDaemon(true);
            return t;
        });
        try {
            Walk w = new Walk(store, guard, journal, uploads, priorByBlock, priorByHash);
            engine.exportSnapshot(snap.name(), w::visit);
            w.finish();
            progress.phase = "writing manifest";
            List<String> packs = w.packKeys;
            Manifest m = new Manifest(Manifest.FORMAT, snap.volume(), snap.snapshot(), bs,
                    snap.createdAt() == null ? null : snap.createdAt().toString(), Instant.now().toString(),
                    List.copyOf(packs), List.copyOf(w.listings),
                    new Manifest.Counts(w.items, w.blocks, w.blocks * bs, progress.bytesUploaded.get(), progress.blocksUploaded.get()));
            store.put(manifestKey, m.toJson(), "application/json");
            verifyPacks(store, manifestKey, packs);
            // what the next push reuses, then the journal can go
            new PushedIndex(snap.id(), snap.name(), bs, packs, Arrays.copyOf(w.ids, w.n), Arrays.copyOf(w.packOf, w.n),
                    Arrays.copyOf(w.slotOf, w.n), Arrays.copyOf(w.shaOf, w.n)).write(pushedFile);
            journal.delete();
            progress.phase = "done";
            LOG.info("pushed {} to {}: {} blocks, {} uploaded ({} bytes) in {} packs", snap.name(), cfg.name(), w.blocks,
                    progress.blocksUploaded.get(), progress.bytesUploaded.get(), progress.packsUploaded.get());
            return new PushResult(snap.name(), cfg.name(), manifestKey, false, w.items, w.blocks, progress.blocksUploaded.get(),
                    progress.bytesUploaded.get(), packs.size(), resumed.size(), seconds(t0));
        } finally {
            uploads.shutdownNow();
            journal.close();
        }
    }

    /**
     * Every pack the manifest names is on the remote: a gc that follows the protocol cannot have
     * removed one; if one is gone anyway (a gc ignoring it), the manifest is taken back and the
     * push fails, so no listed snapshot misses a block (a new push uploads the missing blocks).
     */
    private void verifyPacks(S3Store store, String manifestKey, List<String> packs) {
        Set<String> present = new HashSet<>();
        store.list(remote.config().key("packs/")).forEach(o -> present.add(o.key()));
        for (String k : packs) {
            if (!present.contains(k)) {
                store.delete(manifestKey);
                throw new ClonefsException.IoFailure("remote " + remote.config().name() + ": pack " + k + " of " + snap.name()
                        + " vanished during the push (a gc not following the protocol?); the manifest was taken back, push again", null);
            }
        }
    }

    /** The state of one walk over the snapshot's items. */
    private final class Walk {
        final S3Store store;
        final RemoteGc.PushGuard guard;
        final PushJournal journal;
        final ExecutorService uploads;
        final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
        final AtomicInteger pending = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Map<Long, Ref> priorByBlock;
        final Map<ByteBuffer, Ref> priorByHash;
        final Map<Long, Place> byBlock = new HashMap<>();
        final Map<ByteBuffer, Place> byHash = new HashMap<>();
        final List<String> packKeys = new ArrayList<>(); // null while a new pack uploads
        final Map<String, Integer> packIndex = new HashMap<>();
        final List<Manifest.ListingObject> listings = new ArrayList<>();
        final Listing.Writer writer;
        final ByteBuffer scratch = ByteBuffer.allocate(bs);
        final MessageDigest sha = sha256();
        long items;
        long blocks;
        // the pack being filled
        byte[] packBuf;
        long[] packIds;
        byte[][] packShas;
        int packSlots;
        int packNo = -1;
        // every extent's place, for the push record
        int n;
        long[] ids = new long[1024];
        int[] packOf = new int[1024];
        int[] slotOf = new int[1024];
        byte[][] shaOf = new byte[1024][];

        Walk(S3Store store, RemoteGc.PushGuard guard, PushJournal journal, ExecutorService uploads, Map<Long, Ref> priorByBlock,
             Map<ByteBuffer, Ref> priorByHash) {
            this.store = store;
            this.guard = guard;
            this.journal = journal;
            this.uploads = uploads;
            this.priorByBlock = priorByBlock;
            this.priorByHash = priorByHash;
            this.writer = new Listing.Writer(this::uploadListing);
        }

        boolean visit(SnapshotItem item) {
            items++;
            if ((items & 4095) == 0) {
                guard.refresh();
            }
            if (!(item instanceof SnapshotItem.Extent e)) {
                writer.item(item);
                return true;
            }
            checkFailure();
            long id = e.block().value();
            blocks++;
            progress.blocksScanned.incrementAndGet();
            Place p = byBlock.get(id);
            if (p == null) {
                Ref r = priorByBlock.get(id);
                if (r != null) {
                    p = place(r);
                }
            }
            if (p == null) {
                scratch.clear();
                engine.readBlock(id, scratch);
                progress.blocksRead.incrementAndGet();
                byte[] h = sha.digest(scratch.array());
                ByteBuffer hk = ByteBuffer.wrap(h);
                p = byHash.get(hk);
                if (p == null) {
                    Ref r = priorByHash.get(hk);
                    p = r != null ? place(r) : append(id, scratch.array(), h);
                }
                byHash.putIfAbsent(hk, p);
            }
            byBlock.put(id, p);
            record(id, p);
            writer.item(new SnapshotItem.RemoteExtent(e.ino(), e.index(), new RemoteRef(p.pack(), p.slot(), p.sha256())));
            return true;
        }

        private Place place(Ref r) {
            Integer i = packIndex.get(r.key());
            if (i == null) {
                synchronized (packKeys) {
                    i = packKeys.size();
                    packKeys.add(r.key());
                }
                packIndex.put(r.key(), i);
            }
            return new Place(i, r.slot(), r.sha256());
        }

        private void record(long id, Place p) {
            if (n == ids.length) {
                int cap = n * 2;
                ids = Arrays.copyOf(ids, cap);
                packOf = Arrays.copyOf(packOf, cap);
                slotOf = Arrays.copyOf(slotOf, cap);
                shaOf = Arrays.copyOf(shaOf, cap);
            }
            ids[n] = id;
            packOf[n] = p.pack();
            slotOf[n] = p.slot();
            shaOf[n] = p.sha256();
            n++;
        }

        private Place append(long id, byte[] block, byte[] h) {
            if (packBuf == null) {
                packBuf = new byte[PACK_BLOCKS * bs];
                packIds = new long[PACK_BLOCKS];
                packShas = new byte[PACK_BLOCKS][];
                packSlots = 0;
                synchronized (packKeys) {
                    packNo = packKeys.size();
                    packKeys.add(null);
                }
            }
            System.arraycopy(block, 0, packBuf, packSlots * bs, bs);
            packIds[packSlots] = id;
            packShas[packSlots] = h;
            Place p = new Place(packNo, packSlots, h);
            packSlots++;
            if (packSlots == PACK_BLOCKS) {
                submitPack();
            }
            return p;
        }

        private void submitPack() {
            if (packBuf == null || packSlots == 0) {
                return;
            }
            byte[] data = packSlots == PACK_BLOCKS ? packBuf : Arrays.copyOf(packBuf, packSlots * bs);
            long[] pids = Arrays.copyOf(packIds, packSlots);
            byte[][] pshas = Arrays.copyOf(packShas, packSlots);
            int no = packNo;
            int slots = packSlots;
            packBuf = null;
            progress.phase = "uploading";
            try {
                inFlight.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClonefsException.IoFailure("push interrupted", e);
            }
            pending.incrementAndGet();
            uploads.execute(() -> {
                try {
                    if (failure.get() != null) {
                        return;
                    }
                    String key = remote.config().packKey(HexFormat.of().formatHex(sha256().digest(data)));
                    store.put(key, data, "application/octet-stream");
                    journal.append(new PushJournal.PackRecord(key, pids, pshas));
                    synchronized (packKeys) {
                        packKeys.set(no, key);
                    }
                    progress.packsUploaded.incrementAndGet();
                    progress.blocksUploaded.addAndGet(slots);
                    progress.bytesUploaded.addAndGet(data.length);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    inFlight.release();
                    synchronized (pending) {
                        pending.decrementAndGet();
                        pending.notifyAll();
                    }
                }
            });
        }

        private void uploadListing(byte[] gz) {
            String hex = HexFormat.of().formatHex(sha256().digest(gz));
            String key = remote.config().listingKey(hex);
            store.put(key, gz, "application/octet-stream");
            listings.add(new Manifest.ListingObject(key, hex, gz.length));
        }

        void checkFailure() {
            Throwable t = failure.get();
            if (t != null) {
                throw t instanceof RuntimeException r ? r : new ClonefsException.IoFailure("upload failed: " + t, t);
            }
        }

        void finish() {
            submitPack();
            progress.phase = "uploading listing";
            writer.flush();
            synchronized (pending) {
                while (pending.get() > 0) {
                    try {
                        pending.wait(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new ClonefsException.IoFailure("push interrupted", e);
                    }
                }
            }
            checkFailure();
            synchronized (packKeys) {
                if (packKeys.contains(null)) {
                    throw new IllegalStateException("a pack has no key after its upload");
                }
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double seconds(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e6) / 1000.0;
    }
}
