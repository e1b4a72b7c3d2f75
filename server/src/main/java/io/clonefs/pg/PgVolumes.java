package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import io.clonefs.engine.Engine;
import io.clonefs.engine.SnapshotInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The volumes and snapshots behind managed servers, as the engine and the mount show them: where
 * a volume's data directory is, making and undoing a volume for a new server, the snapshots taken
 * for branches ({@code <source>@pgb-<UTC time>}) and by schedules ({@code <source>@pgauto-<UTC
 * time>}), and finding the snapshot a branch {@code --at} a moment starts from.
 *
 * <p>Stateless apart from its configuration; callers serialise the operations on one volume
 * with the volume's name lock ({@link PgRegistry#withName}).
 */
final class PgVolumes {
    private static final Logger LOG = LoggerFactory.getLogger(PgVolumes.class);
    /** Snapshots taken for a branch; destroyed once no clone uses them. */
    static final String BRANCH_SNAPSHOT_PREFIX = "pgb-";
    /** Snapshots taken by a schedule; destroyed by its retention. */
    static final String SCHEDULED_SNAPSHOT_PREFIX = "pgauto-";
    private static final DateTimeFormatter SNAP_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Engine engine;
    private final Path mountpoint;
    private final Runnable syncfs;
    private final PgDataDirs dataDirs;
    private final String osUser;

    PgVolumes(Engine engine, Path mountpoint, Runnable syncfs, PgDataDirs dataDirs, String osUser) {
        this.engine = engine;
        this.mountpoint = mountpoint;
        this.syncfs = syncfs;
        this.dataDirs = dataDirs;
        this.osUser = osUser;
    }

    // ---- volumes -------------------------------------------------------------------------------

    Path root(String volume) {
        return mountpoint.resolve(volume);
    }

    boolean exists(String name) {
        try {
            engine.volumeInfo(name);
            return true;
        } catch (ClonefsException.NotFound e) {
            return false;
        }
    }

    void requireVolume(PgRecord rec) {
        if (!exists(rec.name())) {
            throw new ClonefsException.NotFound("the volume of PostgreSQL server '" + rec.name()
                    + "' no longer exists (destroy the server to forget it)");
        }
    }

    /** Bytes of blocks only this volume references. */
    long uniqueBytes(String volume) {
        return engine.space(volume).uniqueBytes();
    }

    /** {@code "data"} or {@code ""} (the volume root): where a volume's PostgreSQL data directory is. */
    String detectDataDir(String volume) {
        Path root = root(volume);
        if (Files.exists(root.resolve("data").resolve("PG_VERSION"))) {
            return "data";
        }
        if (Files.exists(root.resolve("PG_VERSION"))) {
            return "";
        }
        throw new PgException.NotPostgres("volume '" + volume + "' holds no PostgreSQL data directory (expected "
                + root.resolve("data") + "; create one with 'clonefs pg init " + volume + "')");
    }

    /** Creates the volume if missing; true when it did. The volume root is given to the PostgreSQL user. */
    boolean ensure(String volume) {
        boolean created = false;
        if (!exists(volume)) {
            engine.createVolume(volume);
            created = true;
        }
        Path root = PgDataDirs.awaitVisible(root(volume));
        if (created) {
            try {
                dataDirs.chown(root);
            } catch (IOException e) {
                destroyQuietly(volume, null);
                throw new ClonefsException.IoFailure("cannot give " + root + " to " + osUser + ": "
                        + e.getMessage(), e);
            }
        }
        return created;
    }

    /** Clones {@code snapshot} as the new volume {@code name}. */
    void cloneVolume(String snapshot, String name) {
        engine.cloneVolume(snapshot, name);
    }

    /** Destroys a volume or a snapshot (not recursively). */
    void destroy(String dataset) {
        engine.destroy(dataset, false);
    }

    void destroyQuietly(String dataset, RuntimeException failure) {
        try {
            engine.destroy(dataset, false);
        } catch (ClonefsException.NotFound e) {
            // already gone
        } catch (RuntimeException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            }
            LOG.warn("cannot destroy {}: {}", dataset, e.getMessage());
        }
    }

    /** Deletes a directory tree (not following links); what cannot be deleted is logged. */
    static void deleteTreeQuietly(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                deleteQuietly(p);
            }
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.getMessage());
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", p, e.getMessage());
        }
    }

    // ---- snapshots -----------------------------------------------------------------------------

    /** syncfs, then an engine snapshot {@code volume@PREFIX<UTC time>}; returns its full name. */
    String takeSnapshot(String volume, String prefix) {
        syncfs.run();
        String base = prefix + SNAP_TIME.format(Instant.now());
        for (int i = 0; ; i++) {
            SnapshotName name = new SnapshotName(volume, i == 0 ? base : base + "-" + i);
            try {
                return engine.snapshot(name.volume(), name.snapshot()).name();
            } catch (ClonefsException.AlreadyExists e) {
                if (i >= 100) {
                    throw e;
                }
            }
        }
    }

    /** The root of a snapshot's files through the mount: {@code MOUNTPOINT/.snapshots/VOLUME@SNAP}. */
    Path snapshotRoot(String snapshot) {
        SnapshotName.parse(snapshot);
        return mountpoint.resolve(".snapshots").resolve(snapshot);
    }

    SnapshotInfo snapshotInfo(String snapshot) {
        return engine.snapshotInfo(snapshot);
    }

    /** Fails with {@code NotFound} (saying so for branch {@code name}) when a branch's snapshot is gone. */
    void requireSnapshot(String snapshot, String name) {
        try {
            engine.snapshotInfo(snapshot);
        } catch (ClonefsException.NotFound e) {
            throw new ClonefsException.NotFound("the snapshot of branch '" + name + "' (" + snapshot
                    + ") no longer exists");
        }
    }

    List<SnapshotInfo> snapshotsOf(String volume) {
        List<SnapshotInfo> out = new ArrayList<>();
        for (SnapshotInfo s : engine.snapshots()) {
            if (s.volume().equals(volume)) {
                out.add(s);
            }
        }
        return out;
    }

    /** The full names of a volume's snapshots. */
    List<String> dependants(String volume) {
        return snapshotsOf(volume).stream().map(SnapshotInfo::name).toList();
    }

    /** Destroys a branch snapshot once no clone uses it; returns its name if it did. */
    String releaseSnapshot(String snapshot) {
        if (snapshot == null || !SnapshotName.parse(snapshot).snapshot().startsWith(BRANCH_SNAPSHOT_PREFIX)) {
            return null;
        }
        try {
            if (!engine.snapshotInfo(snapshot).clones().isEmpty()) {
                return null;
            }
            engine.destroy(snapshot, false);
            return snapshot;
        } catch (ClonefsException.NotFound | ClonefsException.Conflict e) {
            return null;
        }
    }

    /** Scheduled snapshots of a volume, newest first. */
    List<SnapshotInfo> scheduledSnapshots(String volume) {
        List<SnapshotInfo> out = new ArrayList<>();
        for (SnapshotInfo s : snapshotsOf(volume)) {
            if (s.snapshot().startsWith(SCHEDULED_SNAPSHOT_PREFIX)) {
                out.add(s);
            }
        }
        out.sort(Comparator.comparing(SnapshotInfo::createdAt).reversed());
        return out;
    }

    /** The newest snapshot of {@code volume} taken at or before {@code at}. */
    String snapshotAt(String volume, Instant at) {
        SnapshotInfo best = null;
        for (SnapshotInfo s : snapshotsOf(volume)) {
            if (!s.createdAt().isAfter(at) && (best == null || s.createdAt().isAfter(best.createdAt()))) {
                best = s;
            }
        }
        if (best == null) {
            throw new ClonefsException.NotFound("no snapshot of '" + volume + "' was taken at or before " + at
                    + " (schedule some with 'clonefs pg schedule " + volume + "')");
        }
        return best.name();
    }
}
