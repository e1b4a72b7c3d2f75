package io.clonefs.fuse.protocol;

import io.clonefs.base.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises the kernel's read-ahead of the mount, so that a sequential read reaches the daemon as
 * requests of up to {@code max_pages} (1 MiB) instead of 128-256 KiB.
 *
 * <p>A FUSE mount's read-ahead is its backing device's {@code ra_pages}
 * ({@code /sys/class/bdi/MAJOR:MINOR/read_ahead_kb}, the device being the mount's anonymous
 * {@code st_dev}). The kernel starts it at the default of 128 KiB and, on the INIT reply, only
 * lowers it to the reply's {@code max_readahead} ({@code process_init_reply} in
 * {@code fs/fuse/inode.c}): no INIT reply can raise it. So it is written once the INIT reply is
 * processed, before any file is opened (an open file keeps the read-ahead of its open). Needs
 * root; best effort: a failure is logged and the mount keeps the kernel's read-ahead.
 */
final class ReadAhead {
    private static final Logger LOG = LoggerFactory.getLogger(ReadAhead.class);
    private static final Path BDI = Path.of("/sys/class/bdi");

    private ReadAhead() {
    }

    /** Sets the read-ahead of the FUSE mount at {@code mountpoint} to {@code bytes}; returns whether it now is. */
    static boolean raise(String mountpoint, int bytes) {
        return set(mountpoint, "read_ahead_kb", bytes / 1024, "FUSE read-ahead", "KiB");
    }

    /**
     * Writes {@code value} to the attribute {@code name} of the FUSE mount's backing device
     * ({@code /sys/class/bdi/MAJOR:MINOR/NAME}) and logs what it was and now is, as {@code what}
     * in {@code unit}; returns whether it now reads {@code value}. Best effort: a failure is
     * logged and the kernel's value stays.
     */
    static boolean set(String mountpoint, String name, int value, String what, String unit) {
        String dev = null;
        try {
            dev = deviceOf(mountpoint, MountTable.read());
            if (dev == null) {
                LOG.warn("{}: no FUSE mount at {} in /proc/self/mountinfo; the kernel's stays", what, mountpoint);
                return false;
            }
            Path file = BDI.resolve(dev).resolve(name);
            String was = Files.readString(file).strip();
            Files.writeString(file, Integer.toString(value));
            String now = Files.readString(file).strip();
            LOG.info("{} of {} (bdi {}): {} {}, was {} {}", what, mountpoint, dev, now, unit, was, unit);
            return now.equals(Integer.toString(value));
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: cannot set {} {} for {} (bdi {}): {}; the kernel's stays", what, value, unit, mountpoint, dev,
                    e.toString());
            return false;
        }
    }

    /**
     * The {@code MAJOR:MINOR} of the FUSE mount at {@code mountpoint} among {@code mounts}, or
     * null: the last mount at the path (the one on top), if it is a FUSE mount.
     */
    static String deviceOf(String mountpoint, List<MountTable.Entry> mounts) {
        return MountTable.at(mountpoint, mounts).filter(e -> e.fstype().startsWith("fuse")).map(MountTable.Entry::device)
                .orElse(null);
    }
}
