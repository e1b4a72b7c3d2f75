package io.clonefs.base;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the kernel says is mounted: the lines of {@code /proc/self/mountinfo}, parsed once here
 * for the mount itself (is the mount point already a FUSE mount, which device is ours) and for
 * the daemon and CLI (is a mount point taken, is a stale mount left).
 */
public final class MountTable {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private MountTable() {
    }

    /**
     * A line of mountinfo.
     *
     * @param device     {@code MAJOR:MINOR} of the mounted filesystem (a FUSE mount's backing device)
     * @param mountpoint the mount point, octal escapes undone
     * @param fstype     the filesystem type, e.g. {@code fuse}, {@code fuse.clonefs}, {@code ext4}
     * @param source     the mount source, octal escapes undone
     * @param superOptions the per-superblock options (for a cgroup v1 hierarchy its controllers,
     *                   e.g. {@code rw,cpu,cpuacct}), "" when the line has none
     */
    public record Entry(String device, String mountpoint, String fstype, String source, String superOptions) {
        public Entry(String device, String mountpoint, String fstype, String source) {
            this(device, mountpoint, fstype, source, "");
        }

        /** Whether {@code option} is one of the comma-separated {@link #superOptions()}. */
        public boolean hasSuperOption(String option) {
            for (String o : superOptions.split(",")) {
                if (o.equals(option)) {
                    return true;
                }
            }
            return false;
        }

        /** A FUSE filesystem ({@code fuse} or {@code fuse.SUBTYPE}). */
        public boolean fuse() {
            return fstype.equals("fuse") || fstype.startsWith("fuse.");
        }
    }

    /** Every mount now, in the kernel's order (empty when mountinfo cannot be read). */
    public static List<Entry> read() {
        try {
            return parse(Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The entries of mountinfo lines; lines that do not parse are left out. */
    public static List<Entry> parse(List<String> lines) {
        List<Entry> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            Entry e = parse(line);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** One mountinfo line, or null if it does not parse. */
    public static Entry parse(String line) {
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
        return new Entry(f[2], unescape(f[4]), f[dash + 1], unescape(f[dash + 2]), dash + 3 < f.length ? f[dash + 3] : "");
    }

    /** The mount at exactly {@code mountpoint} now (the last one wins, as in the kernel). */
    public static Optional<Entry> at(String mountpoint) {
        return at(mountpoint, read());
    }

    /** The mount at exactly {@code mountpoint} among {@code entries} (the last one wins). */
    public static Optional<Entry> at(String mountpoint, List<Entry> entries) {
        Entry found = null;
        for (Entry e : entries) {
            if (e.mountpoint().equals(mountpoint)) {
                found = e;
            }
        }
        return Optional.ofNullable(found);
    }

    /** A mountinfo field with its octal escapes ({@code \040} for a space...) undone. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
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
}
