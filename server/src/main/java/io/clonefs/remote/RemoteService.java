package io.clonefs.remote;

import io.clonefs.api.PushResult;
import io.clonefs.api.RemoteApi;
import io.clonefs.base.SnapshotName;
import io.clonefs.engine.CacheStatus;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.Names;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.engine.VolumeInfo;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote commands over an open engine: what the daemon serves ({@link RemoteRoutes}) and
 * what the CLI runs in-process when no daemon does.
 */
public final class RemoteService {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteService.class);

    private final Engine engine;
    private final Remotes remotes;
    private final Map<String, PushProgress> pushes = new ConcurrentHashMap<>();
    private final Object importLock = new Object();

    public RemoteService(Engine engine, Path pool) {
        this.engine = engine;
        this.remotes = new Remotes(pool);
    }

    public Remotes remotes() {
        return remotes;
    }

    /** Adds a remote once its bucket answers a HeadBucket with these keys. */
    public RemoteConfig addRemote(RemoteConfig config, Credentials credentials) {
        return addRemote(remotes, config, credentials);
    }

    public static RemoteConfig addRemote(Remotes remotes, RemoteConfig config, Credentials credentials) {
        return remotes.add(config, credentials, (c, k) -> {
            try (S3Store s = new S3Store(c, k)) {
                s.checkBucket();
            }
        });
    }

    /** Pushes a snapshot; {@code started} gets the progress once the push is under way. */
    public PushResult push(String snapshot, String remote, Consumer<PushProgress> started) {
        Pusher p = Pusher.prepare(engine, remotes, snapshot, remote);
        String k = remote + ":" + snapshot;
        if (pushes.putIfAbsent(k, p.progress()) != null) {
            throw new ClonefsException.Conflict("a push of " + snapshot + " to " + remote + " is already running");
        }
        try {
            started.accept(p.progress());
            return p.run();
        } finally {
            pushes.remove(k);
        }
    }

    /** The pushes running now, optionally only those to {@code remote}. */
    public List<RemoteApi.PushView> pushes(String remote) {
        List<RemoteApi.PushView> out = new ArrayList<>();
        for (PushProgress p : pushes.values()) {
            if (remote == null || p.remote.equals(remote)) {
                out.add(p.view());
            }
        }
        return out;
    }

    /** The local volume that holds remote snapshot {@code volume@snap} of {@code remote}. */
    public static String localVolume(String remote, String volume) {
        String v = remote + "." + volume;
        if (!Names.DATASET.matcher(v).matches()) {
            throw new ClonefsException.InvalidArgument("the local name of " + remote + ":" + volume + " would be '" + v
                    + "', longer than 63 characters: use a shorter remote name");
        }
        return v;
    }

    /**
     * Clones {@code volume@snap} of {@code remote} into a new local volume: imports the snapshot
     * ({@link #importRemote}), then clones it.
     */
    public RemoteApi.RemoteCloned cloneRemote(String remote, String source, String name) {
        long t0 = System.nanoTime();
        SnapshotName.parse(source);
        Names.checkDataset("volume", name);
        if (exists(name)) {
            throw new ClonefsException.AlreadyExists("volume '" + name + "' already exists");
        }
        RemoteApi.RemoteImported im = importRemote(remote, source);
        VolumeInfo v = engine.cloneVolume(im.origin(), name);
        LOG.info("clone {} created from {} ({}:{})", v.name(), im.origin(), remote, source);
        return new RemoteApi.RemoteCloned(v.name(), remote + ":" + source, im.origin(), im.imported(), im.items(), im.blocks(),
                (System.nanoTime() - t0) / 1000);
    }

    /**
     * Makes {@code volume@snap} of {@code remote} a local snapshot, {@code REMOTE.VOLUME@SNAP}
     * (no block is fetched), unless it was imported before.
     */
    public RemoteApi.RemoteImported importRemote(String remote, String source) {
        long t0 = System.nanoTime();
        SnapshotName vs = SnapshotName.parse(source);
        Remotes.Remote r = remotes.get(remote);
        String local = localVolume(remote, vs.volume());
        synchronized (importLock) {
            SnapshotName found = findImported(local, vs.snapshot());
            if (found != null) {
                return new RemoteApi.RemoteImported(remote + ":" + source, found.volume(), found.toString(), false,
                        0, 0, (System.nanoTime() - t0) / 1000);
            }
            try (S3Store store = new S3Store(r.config(), r.credentials())) {
                String mk = r.config().manifestKey(vs.volume(), vs.snapshot());
                byte[] mb;
                try {
                    mb = store.get(mk);
                } catch (ClonefsException.NotFound e) {
                    throw new ClonefsException.NotFound("remote " + remote + " has no snapshot " + source + " (no " + mk + ")");
                }
                Manifest m = Manifest.parse(mb, mk);
                if (m.blockSize() != engine.blockSize()) {
                    throw new ClonefsException.InvalidArgument("block size mismatch: " + remote + ":" + source + " has "
                            + m.blockSize() + "-byte blocks, this pool uses " + engine.blockSize() + "-byte blocks");
                }
                String vol = exists(local) ? alternateVolume(local, vs.snapshot()) : local;
                List<Manifest.ListingObject> ls = m.listings();
                SnapshotInfo si = engine.importSnapshot(vol, vs.snapshot(), remote, m.packs(), Listing.items(ls.size(), i -> {
                    Manifest.ListingObject lo = ls.get(i);
                    byte[] gz = store.get(lo.key());
                    if (!sha256Hex(gz).equals(lo.sha256()) || gz.length != lo.bytes()) {
                        throw new ClonefsException.IoFailure("listing " + lo.key() + " of " + remote + ":" + source
                                + " does not match its SHA-256: not used", null);
                    }
                    return Listing.decode(gz, m.packs().size(), "listing " + lo.key());
                }));
                long items = m.counts() == null ? 0 : m.counts().items();
                long blocks = m.counts() == null ? 0 : m.counts().blocks();
                LOG.info("imported {}:{} as {} ({} blocks, none fetched yet)", remote, source, si.name(), blocks);
                return new RemoteApi.RemoteImported(remote + ":" + source, vol, si.name(), true, items, blocks,
                        (System.nanoTime() - t0) / 1000);
            }
        }
    }

    /** {@code LOCAL@SNAP}, or {@code LOCAL.SNAP@SNAP} (see {@link #alternateVolume}), if imported before. */
    private SnapshotName findImported(String local, String snap) {
        for (String v : new String[] {local, local + "." + snap}) {
            if (Names.DATASET.matcher(v).matches() && snapshotExists(new SnapshotName(v, snap).toString())) {
                return new SnapshotName(v, snap);
            }
        }
        return null;
    }

    /**
     * {@code importSnapshot} makes a new volume, so a second snapshot of the same remote volume is
     * imported into {@code REMOTE.VOLUME.SNAP}.
     */
    private String alternateVolume(String local, String snap) {
        String v = local + "." + snap;
        if (!Names.DATASET.matcher(v).matches()) {
            throw new ClonefsException.InvalidArgument("volume '" + local + "' exists without snapshot " + snap
                    + ", and '" + v + "' is too long to import it into");
        }
        return v;
    }

    private boolean exists(String volume) {
        try {
            engine.volumeInfo(volume);
            return true;
        } catch (ClonefsException.NotFound e) {
            return false;
        }
    }

    private boolean snapshotExists(String full) {
        try {
            engine.snapshotInfo(full);
            return true;
        } catch (ClonefsException.NotFound e) {
            return false;
        }
    }

    public RemoteApi.Cache cache() {
        CacheStatus c = engine.cacheStatus();
        return new RemoteApi.Cache(c.remoteBlocks(), c.cachedBlocks(), c.cachedBytes(), c.fetches(), c.fetchedBytes(), c.fetchErrors());
    }

    public RemoteApi.Evicted evict(long keepBytes) {
        long freed = engine.cacheEvict(keepBytes);
        return new RemoteApi.Evicted(freed, cache());
    }

    static String sha256Hex(byte[] b) {
        MessageDigest md = Pusher.sha256();
        return HexFormat.of().formatHex(md.digest(b));
    }
}
