package io.clonefs.daemon;

import io.clonefs.api.Api;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.FsckReport;
import io.clonefs.engine.Names;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.engine.SpaceInfo;
import io.clonefs.engine.VolumeInfo;
import io.clonefs.engine.VolumeSpace;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PoolService} over an open {@link Engine}: what the daemon serves, and what a command uses
 * directly when no daemon runs. Dataset commands are serialised by one lock (a clone of a plain
 * volume is a snapshot plus a clone, and must not interleave with a destroy).
 */
public final class EngineService implements PoolService {
    private static final Logger LOG = LoggerFactory.getLogger(EngineService.class);
    private static final DateTimeFormatter AUTO_SNAPSHOT =
            DateTimeFormatter.ofPattern("'clone-'yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Engine engine;
    private final Runnable beforeSnapshot;
    private final boolean ownsEngine;
    private final ReentrantLock datasetLock = new ReentrantLock();

    /**
     * @param beforeSnapshot run before every snapshot, e.g. the mount's syncfs (DESIGN §5)
     * @param ownsEngine     close the engine on {@link #close()}
     */
    public EngineService(Engine engine, Runnable beforeSnapshot, boolean ownsEngine) {
        this.engine = engine;
        this.beforeSnapshot = beforeSnapshot;
        this.ownsEngine = ownsEngine;
    }

    @Override
    public Api.Datasets list() {
        List<Api.VolumeView> vols = new ArrayList<>();
        for (VolumeInfo v : engine.volumes()) {
            vols.add(new Api.VolumeView(v.name(), v.origin(), time(v.createdAt()), v.referencedBytes(),
                    unique(v.name())));
        }
        return new Api.Datasets(vols, snapshots());
    }

    @Override
    public List<Api.SnapshotView> snapshots() {
        List<Api.SnapshotView> snaps = new ArrayList<>();
        for (SnapshotInfo s : engine.snapshots()) {
            snaps.add(new Api.SnapshotView(s.name(), s.volume(), time(s.createdAt()), s.referencedBytes(),
                    unique(s.name()), s.clones() == null ? List.of() : List.copyOf(s.clones())));
        }
        return snaps;
    }

    private long unique(String name) {
        try {
            VolumeSpace sp = engine.space(name);
            return sp.uniqueBytes();
        } catch (ClonefsException.NotFound e) {
            return 0; // destroyed while listing
        }
    }

    @Override
    public Api.Created createVolume(String name) {
        Names.checkDataset("volume", name);
        datasetLock.lock();
        try {
            long t0 = System.nanoTime();
            VolumeInfo v = engine.createVolume(name);
            return new Api.Created(v.name(), micros(t0));
        } finally {
            datasetLock.unlock();
        }
    }

    @Override
    public Api.Created snapshot(String volume, String snapshot) {
        Names.checkDataset("volume", volume);
        Names.checkDataset("snapshot", snapshot);
        datasetLock.lock();
        try {
            long t0 = System.nanoTime();
            SnapshotInfo s = takeSnapshot(volume, snapshot);
            return new Api.Created(s.name(), micros(t0));
        } finally {
            datasetLock.unlock();
        }
    }

    private SnapshotInfo takeSnapshot(String volume, String snapshot) {
        engine.volumeInfo(volume); // NotFound before we flush anything
        beforeSnapshot.run();
        SnapshotInfo s = engine.snapshot(volume, snapshot);
        LOG.info("snapshot {} taken", s.name());
        return s;
    }

    @Override
    public Api.Cloned cloneVolume(String source, String name) {
        Names.checkDataset("volume", name);
        if (source == null || source.isEmpty()) {
            throw new ClonefsException.InvalidArgument("clone source is empty");
        }
        datasetLock.lock();
        try {
            long t0 = System.nanoTime();
            if (Names.isSnapshotName(source)) {
                Names.splitSnapshot(source);
                VolumeInfo v = engine.cloneVolume(source, name);
                LOG.info("clone {} created from {}", v.name(), source);
                return new Api.Cloned(v.name(), source, false, micros(t0));
            }
            Names.checkDataset("volume", source);
            engine.volumeInfo(source);
            if (exists(name)) {
                throw new ClonefsException.AlreadyExists("volume '" + name + "' already exists");
            }
            SnapshotInfo snap = autoSnapshot(source);
            try {
                VolumeInfo v = engine.cloneVolume(snap.name(), name);
                LOG.info("clone {} created from {} (snapshot taken for it)", v.name(), snap.name());
                return new Api.Cloned(v.name(), snap.name(), true, micros(t0));
            } catch (RuntimeException e) {
                try {
                    engine.destroy(snap.name(), false); // leave nothing behind
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        } finally {
            datasetLock.unlock();
        }
    }

    private SnapshotInfo autoSnapshot(String volume) {
        String base = AUTO_SNAPSHOT.format(Instant.now());
        for (int i = 0; ; i++) {
            String snap = i == 0 ? base : base + "-" + i;
            try {
                return takeSnapshot(volume, snap);
            } catch (ClonefsException.AlreadyExists e) {
                if (i >= 100) {
                    throw e;
                }
            }
        }
    }

    private boolean exists(String volume) {
        try {
            engine.volumeInfo(volume);
            return true;
        } catch (ClonefsException.NotFound e) {
            return false;
        }
    }

    @Override
    public Api.Destroyed destroy(String name, boolean recursive) {
        if (Names.isSnapshotName(name)) {
            Names.splitSnapshot(name);
        } else {
            Names.checkDataset("volume", name);
        }
        datasetLock.lock();
        try {
            long t0 = System.nanoTime();
            engine.destroy(name, recursive);
            LOG.info("{} destroyed{}", name, recursive ? " (recursive)" : "");
            return new Api.Destroyed(name, recursive, micros(t0));
        } finally {
            datasetLock.unlock();
        }
    }

    @Override
    public Api.Space space() {
        SpaceInfo s = engine.space();
        return new Api.Space(s.blockSize(), s.usedBytes(), s.freeBytes(), s.blocksInUse(), s.blocksFree(),
                s.metadataBytes(), s.reclaimBacklog());
    }

    @Override
    public Api.Fsck fsck() {
        FsckReport r = engine.fsck();
        List<String> problems = r.problems() == null ? List.of() : List.copyOf(r.problems());
        return new Api.Fsck(problems.isEmpty(), r.roots(), r.nodes(), r.blocks(), problems);
    }

    @Override
    public void sync() {
        engine.sync();
    }

    @Override
    public boolean remote() {
        return false;
    }

    @Override
    public void close() {
        if (ownsEngine) {
            engine.close();
        }
    }

    private static String time(Instant t) {
        return t == null ? null : t.toString();
    }

    private static long micros(long t0) {
        return (System.nanoTime() - t0) / 1000;
    }
}
