package io.clonefs.pg;

import io.clonefs.base.ClonefsException;

/**
 * How the branch manager reaches snapshots pushed to a remote, for {@code pg branch
 * REMOTE:VOLUME@SNAP}: the daemon wires it to the remote service, so that the import-then-branch
 * workflow runs in the server, not in each client. Kept as an interface so that {@code io.clonefs.pg}
 * does not depend on {@code io.clonefs.remote}.
 */
@FunctionalInterface
public interface RemoteSnapshots {
    /** A daemon without remotes. */
    RemoteSnapshots NONE = (remote, snapshot) -> {
        throw new ClonefsException.InvalidArgument("this daemon has no remotes; cannot branch " + remote + ":" + snapshot);
    };

    /**
     * Makes {@code snapshot} ({@code VOLUME@SNAP}) of {@code remote} a local snapshot (no data
     * copied; reused when it was imported before) and returns the local volume that holds it as
     * its newest snapshot.
     */
    String importVolume(String remote, String snapshot);
}
