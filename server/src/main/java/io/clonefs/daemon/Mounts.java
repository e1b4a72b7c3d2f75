package io.clonefs.daemon;

import io.clonefs.base.Command;
import io.clonefs.base.MountTable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Whether a path is mounted ({@link MountTable}), and removing a stale FUSE mount. */
public final class Mounts {
    private Mounts() {
    }

    /** The mount at exactly this path, if any (the last one wins, as in the kernel). */
    public static Optional<MountTable.Entry> find(Path mountpoint) {
        return MountTable.at(mountpoint.toAbsolutePath().normalize().toString());
    }

    /**
     * Detaches a FUSE mount whose daemon is gone ({@code fusermount -u -z}, else {@code umount -l}).
     * Returns true when the mount point is no longer mounted.
     */
    public static boolean detachStale(Path mountpoint) {
        String mp = mountpoint.toAbsolutePath().normalize().toString();
        for (List<String> cmd : List.of(List.of("fusermount", "-u", "-z", mp), List.of("fusermount3", "-u", "-z", mp),
                List.of("umount", "-l", mp))) {
            if (find(mountpoint).isEmpty()) {
                return true;
            }
            try {
                Command.of(cmd).mergeStderr().timeout(Duration.ofSeconds(10)).run();
            } catch (UncheckedIOException e) {
                // tool missing: try the next
            } catch (Command.Aborted e) {
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
                // timed out: try the next
            }
        }
        return find(mountpoint).isEmpty();
    }
}
