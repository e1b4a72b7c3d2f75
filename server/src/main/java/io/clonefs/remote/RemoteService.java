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
import io.clonefs.daemon.DaemonFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
            try (S3Store store = new S3Store(r.config(), r.credentials())) {
                String mk = r.config().manifestKey(vs.volume(), vs.snapshot());
                byte[] mb;
                try {
                    mb = store.get(mk);
                } catch (ClonefsException.NotFound e) {
                    if (found != null) {
                        throw new ClonefsException.NotFound("remote " + remote + " no longer lists " + source + " (no " + mk
                                + "): the local import " + found + " is not reused, since a remote gc may remove its blocks"
                                + " (destroy " + found.volume() + " once nothing needs it)");
                    }
                    throw new ClonefsException.NotFound("remote " + remote + " has no snapshot " + source + " (no " + mk + ")");
                }
                Manifest m = Manifest.parse(mb, mk);
                String id = contentId(m);
                if (found != null) {
                    // reuse only an import of this very manifest (not of an earlier push under the same name)
                    checkImport(remote, source, found, id);
                    return new RemoteApi.RemoteImported(remote + ":" + source, found.volume(), found.toString(), false,
                            0, 0, (System.nanoTime() - t0) / 1000);
                }
                if (m.blockSize() != engine.blockSize()) {
                    throw new ClonefsException.InvalidArgument("block size mismatch: " + remote + ":" + source + " has "
                            + m.blockSize() + "-byte blocks, this pool uses " + engine.blockSize() + "-byte blocks");
                }
                String vol = exists(local) ? alternateVolume(local, vs.snapshot()) : local;
                // what this import is of, durably before the import itself (see checkImport)
                Path rec = importRecord(remote, new SnapshotName(vol, vs.snapshot()).toString());
                try {
                    Files.createDirectories(rec.getParent());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                DaemonFiles.writePrivate(rec, (source + " " + id + "\n").getBytes(StandardCharsets.UTF_8));
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

    /**
     * The identity of a pushed snapshot's content: SHA-256 over the block size, the pack keys and
     * the listing objects (keys and SHA-256s), all content-addressed: two manifests with the same id
     * describe the same tree and blocks, whatever their push times.
     */
    static String contentId(Manifest m) {
        MessageDigest md = Pusher.sha256();
        md.update((m.blockSize() + "\n").getBytes(StandardCharsets.UTF_8));
        for (String p : m.packs()) {
            md.update(("p " + p + "\n").getBytes(StandardCharsets.UTF_8));
        }
        for (Manifest.ListingObject l : m.listings()) {
            md.update(("l " + l.key() + " " + l.sha256() + " " + l.bytes() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** {@code POOL/remotes/NAME/imported/LOCALVOL@SNAP}: {@code "VOLUME@SNAP CONTENTID\n"} of the manifest imported. */
    private Path importRecord(String remote, String localSnapshot) {
        return remotes.dir(remote).resolve("imported").resolve(localSnapshot);
    }

    /**
     * A local import is reused only when it was made from a manifest with the same content id as
     * the remote's current one; an import recorded by an older clonefs (no record) is taken as it
     * is and recorded now.
     */
    private void checkImport(String remote, String source, SnapshotName found, String id) {
        Path rec = importRecord(remote, found.toString());
        String want = source + " " + id;
        String have;
        try {
            have = Files.readString(rec, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            LOG.warn("local import {} of {}:{} has no record of its manifest (imported by an older clonefs): recording the current one",
                    found, remote, source);
            DaemonFiles.writePrivate(rec, (want + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + rec + ": " + e.getMessage(), e);
        }
        if (!have.equals(want)) {
            throw new ClonefsException.Conflict("the local import " + found + " was made from another push of " + remote + ":"
                    + source + " than the remote holds now (deleted and pushed again?): not reused; destroy volume "
                    + found.volume() + " (and its clones) to import it again");
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
