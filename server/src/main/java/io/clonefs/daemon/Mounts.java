package io.clonefs.daemon;

import io.clonefs.base.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** What the kernel says is mounted ({@code /proc/self/mountinfo}), and removing a stale FUSE mount. */
public final class Mounts {
    private Mounts() {
    }

    /** A line of mountinfo: the mount point and the filesystem type. */
    public record Entry(String mountpoint, String fstype, String source) {
        public boolean fuse() {
            return fstype.equals("fuse") || fstype.startsWith("fuse.");
        }
    }

    /** The mount at exactly this path, if any (the last one wins, as in the kernel). */
    public static Optional<Entry> find(Path mountpoint) {
        String want = mountpoint.toAbsolutePath().normalize().toString();
        Entry found = null;
        for (Entry e : all()) {
            if (e.mountpoint().equals(want)) {
                found = e;
            }
        }
        return Optional.ofNullable(found);
    }

    public static List<Entry> all() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            return List.of();
        }
        return lines.stream().map(Mounts::parse).filter(e -> e != null).toList();
    }

    static Entry parse(String line) {
        // id parent major:minor root mountpoint options [optional fields...] - fstype source superopts
        String[] f = line.split(" ");
        int dash = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                dash = i;
                break;
            }
        }
        if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
            return null;
        }
        return new Entry(unescape(f[4]), f[dash + 1], unescape(f[dash + 2]));
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
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
