package io.clonefs.daemon;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;

/**
 * The commands of a pool, served either by the daemon that owns it ({@link DaemonClient}) or by an
 * engine this process opened ({@link EngineService}). Failures are {@link io.clonefs.base.ClonefsException}s
 * (the same subtypes whichever side served them) or {@link ControlException}s.
 */
public interface PoolService extends AutoCloseable {
    Api.Datasets list();

    /** The snapshots of {@link #list()} alone (an engine does not compute the volumes' space for it). */
    default java.util.List<Api.SnapshotView> snapshots() {
        return list().snapshots();
    }

    Api.Created createVolume(String name);

    /** Takes {@code volume@snapshot}; a daemon first flushes the mount's dirty pages (syncfs). */
    Api.Created snapshot(String volume, String snapshot);

    /** Clones {@code volume@snap}, or a volume (after taking a snapshot of it now). */
    Api.Cloned cloneVolume(String source, String name);

    Api.Destroyed destroy(String name, boolean recursive);

    Api.Space space();

    Api.Fsck fsck();

    void sync();

    /** True when served by a running daemon. */
    boolean remote();

    @Override
    void close();
}
