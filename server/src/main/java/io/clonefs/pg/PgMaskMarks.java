package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.SnapshotInfo;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * The pool's side of {@code pg mask} ({@code io.clonefs.pg.mask.Masking} does the SQL): the
 * snapshot of a stopped server, its files through the mount, and the mark of masked data in the
 * server's record. Branches inherit the mark from their source ({@link PgBranches}).
 */
final class PgMaskMarks {
    /** Snapshots taken by {@code pg mask}. */
    static final String MASKED_SNAPSHOT_PREFIX = "masked-";

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgProcesses processes;
    private final PgServers servers;
    private final PgEvents events;

    PgMaskMarks(PgRegistry registry, PgVolumes volumes, PgProcesses processes, PgServers servers, PgEvents events) {
        this.registry = registry;
        this.volumes = volumes;
        this.processes = processes;
        this.servers = servers;
        this.events = events;
    }

    /** Takes {@code NAME@masked-TIME} of a server that is stopped (its files are what it wrote). */
    String snapshotStopped(String name) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            if (processes.running(rec)) {
                throw new ClonefsException.Conflict("PostgreSQL server '" + name + "' runs; stop it before its masked snapshot");
            }
            return volumes.takeSnapshot(name, MASKED_SNAPSHOT_PREFIX);
        });
    }

    /** The root of a snapshot's files as the mount shows them ({@code MOUNTPOINT/.snapshots/VOLUME@SNAP}). */
    Path snapshotFiles(String snapshot) {
        return volumes.snapshotRoot(snapshot);
    }

    /** Marks {@code name} as masked by {@code snapshot}, and drops the time to live the mask ran with. */
    PgApi.Server mark(String name, String snapshot, boolean verified) {
        SnapshotInfo info = volumes.snapshotInfo(snapshot);
        if (!info.volume().equals(name)) {
            throw new ClonefsException.InvalidArgument(snapshot + " is not a snapshot of '" + name + "'");
        }
        registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            PgRecord marked = rec.withMasked(new PgRecord.Masked(snapshot, info.id(), verified, Instant.now().toString()),
                    null);
            registry.put(marked);
            events.emit("masked", marked, Map.of("snapshot", snapshot, "verified", verified));
            return null;
        });
        return servers.get(name);
    }
}
