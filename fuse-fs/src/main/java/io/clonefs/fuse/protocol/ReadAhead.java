package io.clonefs.fuse.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    private static final Path BDI = Path.of("/sys/class/bdi");

    private ReadAhead() {
    }

    /** Sets the read-ahead of the FUSE mount at {@code mountpoint} to {@code bytes}; returns whether it now is. */
    static boolean raise(String mountpoint, int bytes) {
        int kib = bytes / 1024;
        String dev = null;
        try {
            dev = deviceOf(mountpoint, Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8));
            if (dev == null) {
                LOG.warn("FUSE read-ahead: {} not found in {}; the kernel's read-ahead stays", mountpoint, MOUNTINFO);
                return false;
            }
            Path file = BDI.resolve(dev).resolve("read_ahead_kb");
            String was = Files.readString(file).strip();
            Files.writeString(file, Integer.toString(kib));
            String now = Files.readString(file).strip();
            LOG.info("FUSE read-ahead of {} (bdi {}): {} KiB, was {} KiB", mountpoint, dev, now, was);
            return now.equals(Integer.toString(kib));
        } catch (IOException | RuntimeException e) {
            LOG.warn("FUSE read-ahead: cannot set {} KiB for {} (bdi {}): {}; the kernel's read-ahead stays", kib,
                    mountpoint, dev, e.toString());
            return false;
        }
    }

    /**
     * The {@code MAJOR:MINOR} of the FUSE mount at {@code mountpoint} in {@code mountinfo} (lines
     * of {@code /proc/self/mountinfo}), or null: the last matching line, the mount on top.
     */
    static String deviceOf(String mountpoint, List<String> mountinfo) {
        String found = null;
        for (String line : mountinfo) {
            // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
            String[] f = line.split(" ");
            int sep = List.of(f).indexOf("-");
            if (f.length < 5 || sep < 0 || sep + 1 >= f.length || !f[sep + 1].startsWith("fuse")) {
                continue;
            }
            if (unescape(f[4]).equals(mountpoint)) {
                found = f[2];
            }
        }
        return found;
    }

    /** A mountinfo field with its octal escapes ({@code \040} for a space...) undone. */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
