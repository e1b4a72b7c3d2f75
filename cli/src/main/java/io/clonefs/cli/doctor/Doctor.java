package io.clonefs.cli.doctor;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.MountTable;
import io.clonefs.pg.PgMemory;
import io.clonefs.pg.PgOptions;
import io.clonefs.pg.PgPorts;
import io.clonefs.pg.limits.Cgroups;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code clonefs doctor}: what a host needs to run clonefs, checked one thing at a time, each
 * with what to fix. Needs no daemon and no pool; the pool's disk is checked when there is a pool
 * (or one is named). Every check reads the {@link Host} it is given, so a test can point it at
 * a host where a check fails.
 */
public final class Doctor {
    /** Below this the pool cannot hold much more than its metadata: a blocker. */
    static final long FREE_FAIL = 256L << 20;
    /** Below this a database of a few GB does not fit: a warning. */
    static final long FREE_WARN = 4L << 30;
    /** The programs the branch manager refuses to start without (PgManager). */
    static final List<String> PG_REQUIRED = List.of("initdb", "pg_ctl", "pg_basebackup", "postgres");
    /**
     * Programs single commands need: pg diff (pg_dump), pg mask (pg_resetwal), pg history
     * (pg_controldata), pg check-migration (psql).
     */
    static final List<String> PG_OPTIONAL = List.of("pg_dump", "pg_resetwal", "pg_controldata", "psql");
    /** Filesystems LMDB (the pool's metadata) cannot be kept on: its locks and memory map need a local one. */
    static final Set<String> NETWORK = Set.of("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs",
            "fuse.glusterfs", "fuse.sshfs", "fuse.s3fs", "fuse.rclone", "afs", "lustre", "gpfs", "virtiofs");

    /** How a check came out. */
    public enum Status { OK, WARN, FAIL }

    /**
     * One check's outcome.
     *
     * @param name   what was checked (one word: fuse-device, postgresql, ...)
     * @param status OK, WARN (works, with a limitation) or FAIL (a blocker)
     * @param detail what was found
     * @param fix    what to do about it, null when nothing
     */
    public record Check(String name, Status status, String detail, String fix) {
        static Check ok(String name, String detail) {
            return new Check(name, Status.OK, detail, null);
        }

        static Check warn(String name, String detail, String fix) {
            return new Check(name, Status.WARN, detail, fix);
        }

        static Check fail(String name, String detail, String fix) {
            return new Check(name, Status.FAIL, detail, fix);
        }

        /** {@code STATUS name  detail; fix: ...} on one line. */
        public String line() {
            return String.format(Locale.ROOT, "%-4s %-12s %s%s", status, name, detail, fix == null ? "" : "; fix: " + fix);
        }
    }

    /**
     * The report: every check, and how many blockers and warnings.
     *
     * @param ok whether nothing is a blocker
     */
    public record Report(boolean ok, int blockers, int warnings, List<Check> checks) {
        static Report of(List<Check> checks) {
            int fail = (int) checks.stream().filter(c -> c.status() == Status.FAIL).count();
            int warn = (int) checks.stream().filter(c -> c.status() == Status.WARN).count();
            return new Report(fail == 0, fail, warn, List.copyOf(checks));
        }
    }

    private final Host host;

    public Doctor(Host host) {
        this.host = host;
    }

    /**
     * Every check; the pool's when {@code pool} exists or {@code named} (then where it would be
     * made, the nearest directory that exists).
     */
    public Report run(Path pool, boolean named) {
        boolean root = host.uid() == 0;
        List<MountTable.Entry> mounts = MountTable.parse(Host.lines(host.mountinfo()));
        List<Check> checks = new ArrayList<>();
        checks.add(fuseDevice(host.devFuse()));
        checks.add(fuseConf(Host.lines(host.fuseConf()), host.fuseConf(), root));
        checks.add(fusermount(host.onPath("fusermount"), root));
        checks.add(libfuse(host.libfuse().get()));
        checks.add(java(host.java()));
        Path bin = host.env("CLONEFS_PG_BIN") != null ? Path.of(host.env("CLONEFS_PG_BIN")) : PgOptions.DEFAULT_BIN;
        checks.add(postgresql(bin, host.env("CLONEFS_PG_BIN") != null));
        checks.add(postgresUser(root, host.onPath("runuser"), Host.lines(host.passwd())));
        checks.add(ports(host.env("CLONEFS_PG_PORTS"), listening()));
        checks.add(memory(host.env("CLONEFS_PG_MEMORY_FLOOR"), host.meminfo()));
        String cgroupRoot = host.env("CLONEFS_CGROUP_ROOT");
        checks.add(cgroups(cgroupRoot != null ? Cgroups.at(Path.of(cgroupRoot)) : Cgroups.detect(mounts)));
        checks.addAll(pool(pool, named, mounts));
        return Report.of(checks);
    }

    private Set<Integer> listening() {
        Set<Integer> out = new HashSet<>();
        for (Path t : host.tcpTables()) {
            out.addAll(PgPorts.listening(Host.lines(t)));
        }
        return out;
    }

    // ---- the checks: each from what it found, so that a test gives it any host --------------

    /** {@code /dev/fuse}: a character device this user can open read-write (what a mount opens). */
    static Check fuseDevice(Path dev) {
        String fix = "load the module (modprobe fuse) or, in a container, pass the device (docker run --device "
                + "/dev/fuse --cap-add SYS_ADMIN)";
        if (!Files.exists(dev)) {
            return Check.fail("fuse-device", "no " + dev, fix);
        }
        try (FileChannel c = FileChannel.open(dev, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return Check.ok("fuse-device", dev + " opens read-write");
        } catch (IOException | RuntimeException e) {
            return Check.fail("fuse-device", dev + " does not open read-write (" + e.getMessage() + ")",
                    "run as root, or give this user access to " + dev + "; " + fix);
        }
    }

    /** {@code user_allow_other}: mounts use allow_other (the postgres user reads them); a non-root mount needs it. */
    static Check fuseConf(List<String> lines, Path conf, boolean root) {
        boolean on = lines.stream().map(String::strip).anyMatch(l -> l.equals("user_allow_other"));
        if (on) {
            return Check.ok("allow-other", "user_allow_other is set in " + conf);
        }
        if (root) {
            return Check.ok("allow-other", "user_allow_other is not set in " + conf + "; root does not need it "
                    + "(only a mount by another user does)");
        }
        return Check.fail("allow-other", "user_allow_other is not set in " + conf + ", and mounts by a user other "
                + "than root need it for allow_other (the postgres user reading the mount)",
                "add the line user_allow_other to " + conf + " as root, or mount with --no-allow-other (then no pg commands)");
    }

    /** {@code fusermount}: how a user other than root mounts (libfuse 2 runs it); root mounts without it. */
    static Check fusermount(Optional<Path> found, boolean root) {
        if (found.isPresent()) {
            return Check.ok("fusermount", found.get().toString());
        }
        String fix = "apt-get install fuse3";
        return root ? Check.warn("fusermount", "no fusermount on PATH: root mounts without it, clonefs umount then "
                + "asks the daemon to unmount", fix)
                : Check.fail("fusermount", "no fusermount on PATH: a user other than root cannot mount", fix);
    }

    /** libfuse 2, which the mount binds (jnr-fuse). */
    static Check libfuse(Optional<String> problem) {
        return problem.isEmpty() ? Check.ok("libfuse2", "libfuse.so.2 loads")
                : Check.fail("libfuse2", "libfuse 2 does not load: " + problem.get(),
                        "apt-get install libfuse2 (Debian 12; libfuse2t64 on Ubuntu 24.04)");
    }

    static Check java(int feature) {
        return feature >= 17 ? Check.ok("java", "Java " + feature)
                : Check.fail("java", "Java " + feature + "; clonefs needs 17 or later", "apt-get install openjdk-17-jre-headless");
    }

    /** The programs the branch manager runs from its bin directory ({@code CLONEFS_PG_BIN}, else PostgreSQL 15's). */
    static Check postgresql(Path bin, boolean configured) {
        String where = bin + (configured ? " (CLONEFS_PG_BIN)" : "");
        List<String> missing = PG_REQUIRED.stream().filter(p -> !Files.isExecutable(bin.resolve(p))).toList();
        String fix = configured ? "set CLONEFS_PG_BIN to the bin directory of PostgreSQL 15"
                : "apt-get install postgresql-15, or set CLONEFS_PG_BIN to the bin directory of PostgreSQL 15";
        if (!missing.isEmpty()) {
            return Check.fail("postgresql", "no " + String.join(", ", missing) + " in " + where
                    + ": pg commands are unavailable", fix);
        }
        List<String> optional = PG_OPTIONAL.stream().filter(p -> !Files.isExecutable(bin.resolve(p))).toList();
        if (!optional.isEmpty()) {
            return Check.warn("postgresql", "no " + String.join(", ", optional) + " in " + where
                    + ": pg diff, mask, history or check-migration fail", "apt-get install postgresql-15");
        }
        return Check.ok("postgresql", "initdb, pg_ctl, postgres and the tools in " + where);
    }

    /** Servers run as the postgres user through runuser, which only root may use. */
    static Check postgresUser(boolean root, Optional<Path> runuser, List<String> passwd) {
        boolean user = passwd.stream().anyMatch(l -> l.startsWith("postgres:"));
        if (!root) {
            return Check.warn("pg-user", "not root: the daemon runs PostgreSQL as the postgres user through runuser, "
                    + "which needs root", "run clonefs mount (and make demo) as root for pg commands");
        }
        if (runuser.isEmpty()) {
            return Check.fail("pg-user", "no runuser on PATH: PostgreSQL cannot be run as the postgres user",
                    "apt-get install util-linux");
        }
        if (!user) {
            return Check.fail("pg-user", "no postgres user to run PostgreSQL as", "apt-get install postgresql-15 (it makes the user)");
        }
        return Check.ok("pg-user", "PostgreSQL runs as postgres through " + runuser.get());
    }

    /**
     * The port range of the servers: {@code CLONEFS_PG_PORTS}, else 54400-55399. The daemon
     * refuses a configured range holding ports other programs listen on; in the default range
     * servers skip them.
     */
    static Check ports(String configured, Set<Integer> listening) {
        int first = PgOptions.DEFAULT_FIRST_PORT;
        int last = PgOptions.DEFAULT_LAST_PORT;
        if (configured != null) {
            try {
                int[] fl = PgPorts.parseRange("CLONEFS_PG_PORTS", configured);
                first = fl[0];
                last = fl[1];
            } catch (ClonefsException.InvalidArgument e) {
                return Check.fail("ports", e.getMessage(), "set CLONEFS_PG_PORTS=FIRST-LAST, e.g. 54400-55399");
            }
        }
        int f = first;
        int l = last;
        List<Integer> used = listening.stream().filter(p -> p >= f && p <= l).sorted().toList();
        String range = first + "-" + last + (configured != null ? " (CLONEFS_PG_PORTS)" : "");
        if (used.isEmpty()) {
            return Check.ok("ports", range + " free");
        }
        String which = used.stream().limit(5).map(String::valueOf).collect(Collectors.joining(", "))
                + (used.size() > 5 ? " and " + (used.size() - 5) + " more" : "");
        if (configured != null || used.size() > last - first) {
            return Check.fail("ports", range + ": " + which + " in use by other programs; the daemon refuses the range",
                    "choose a free range: CLONEFS_PG_PORTS=FIRST-LAST in the daemon's environment");
        }
        return Check.warn("ports", range + ": " + which + " in use by other programs; new servers skip them",
                "nothing, or a free range in CLONEFS_PG_PORTS");
    }

    /**
     * Room in the host's memory for servers to start: the daemon refuses a start that would leave
     * less than the floor ({@code CLONEFS_PG_MEMORY_FLOOR}, default 5 % of the RAM between 256 MiB
     * and 2 GiB) of {@code MemAvailable} (PgAdmission; it may suspend idle branches to make room).
     */
    static Check memory(String floorSetting, Path meminfo) {
        long floorOption;
        try {
            floorOption = floorSetting == null ? PgMemory.AUTO : PgMemory.parseFloor(floorSetting);
        } catch (ClonefsException.InvalidArgument e) {
            return Check.fail("memory", "CLONEFS_PG_MEMORY_FLOOR: " + e.getMessage(), "set it to a size (1GiB), 0 or auto");
        }
        PgMemory m = new PgMemory(floorOption, PgMemory.DEFAULT_PER_SERVER, meminfo);
        if (floorOption == 0) {
            return Check.ok("memory", "no memory floor (CLONEFS_PG_MEMORY_FLOOR=0): servers start whatever the memory");
        }
        long[] mi = m.read();
        if (mi == null) {
            return Check.warn("memory", "cannot read MemTotal and MemAvailable from " + meminfo
                    + ": servers start without an admission check", "nothing, or run on Linux with /proc mounted");
        }
        long floor = m.floorFor(mi[0]);
        long room = mi[1] - floor;
        String what = formatBytes(mi[1]) + " available of " + formatBytes(mi[0]) + ", " + formatBytes(floor)
                + " kept free" + (floorSetting != null ? " (CLONEFS_PG_MEMORY_FLOOR)" : "");
        if (room < PgMemory.DEFAULT_PER_SERVER) {
            return Check.fail("memory", what + ": no server can start (pg init and branches are refused)",
                    "free memory, or lower CLONEFS_PG_MEMORY_FLOOR in the daemon's environment");
        }
        long servers = room / PgMemory.DEFAULT_PER_SERVER;
        if (servers < 4) {
            return Check.warn("memory", what + ": room for " + servers + " small server" + (servers > 1 ? "s" : ""),
                    "free memory, or give branches less (pg branch --memory)");
        }
        return Check.ok("memory", what + ": room for about " + servers + " small servers (64 MiB each)");
    }

    /** The controllers pg branch/limit --memory and --cpu-weight need (the limits package's own detection). */
    static Check cgroups(Cgroups c) {
        String what = "pg --memory and --cpu-weight";
        return switch (c.version()) {
            case NONE -> Check.warn("cgroups", "no cgroups: " + c.missing() + "; " + what + " are refused",
                    "mount cgroup2 at /sys/fs/cgroup (or ignore: only limits need it)");
            case V1, V2 -> c.missing().isEmpty() ? Check.ok("cgroups", c + ": memory and cpu controllers for " + what)
                    : Check.warn("cgroups", c.missing() + "; " + (c.hasMemory() ? "--cpu-weight" : "--memory")
                    + " is refused", "enable the controller (systemd: cgroup v2 with memory and cpu delegated)");
        };
    }

    /** The pool's disk: its filesystem (by the mount table) and the space free on it. */
    List<Check> pool(Path pool, boolean named, List<MountTable.Entry> mounts) {
        Path at = pool.toAbsolutePath().normalize();
        boolean exists = Files.isDirectory(at);
        if (!exists && !named) {
            return List.of(Check.ok("pool", "no pool at " + at + " (the default): its disk is not checked; "
                    + "clonefs doctor --pool DIR checks the disk of a pool, or of where one would go"));
        }
        Path existing = at;
        while (existing != null && !Files.isDirectory(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return List.of(Check.fail("pool", "nothing of " + at + " exists", "give --pool a directory on a local disk"));
        }
        String where = exists ? "pool " + at : "no pool at " + at + " yet; " + existing + " (where clonefs init makes it)";
        Path real;
        try {
            real = existing.toRealPath();
        } catch (IOException e) {
            real = existing;
        }
        List<Check> out = new ArrayList<>();
        out.add(filesystem(where, mountOf(real, mounts)));
        try {
            out.add(freeSpace(existing, Files.getFileStore(existing).getUsableSpace()));
        } catch (IOException e) {
            out.add(Check.warn("pool-space", "free space on " + existing + " unknown (" + e.getMessage() + ")",
                    "df " + existing));
        }
        return out;
    }

    /** The mount holding {@code path}: the entry with the longest mount point that is a prefix of it. */
    static Optional<MountTable.Entry> mountOf(Path path, List<MountTable.Entry> mounts) {
        MountTable.Entry best = null;
        for (MountTable.Entry e : mounts) {
            Path mp = Path.of(e.mountpoint());
            if (path.startsWith(mp) && (best == null || mp.getNameCount() >= Path.of(best.mountpoint()).getNameCount())) {
                best = e; // a later mount over the same point hides the earlier one
            }
        }
        return Optional.ofNullable(best);
    }

    /** A local disk is OK; tmpfs and overlay work but lose the pool; network and FUSE filesystems do not hold LMDB. */
    static Check filesystem(String where, Optional<MountTable.Entry> mount) {
        if (mount.isEmpty()) {
            return Check.warn("pool-disk", where + ": filesystem unknown (not in the mount table)",
                    "make sure the pool is on a local disk (ext4, xfs)");
        }
        String type = mount.get().fstype();
        String on = where + " is on " + type + " (" + mount.get().mountpoint() + ")";
        if (NETWORK.contains(type) || type.startsWith("nfs")) {
            return Check.fail("pool-disk", on + ": a network filesystem; LMDB, which keeps the pool's metadata, needs "
                    + "a local one (its locks and memory map)", "put the pool on a local disk (ext4, xfs)");
        }
        if (type.equals("fuse") || type.startsWith("fuse.")) {
            return Check.warn("pool-disk", on + ": a FUSE filesystem under the pool; its fsync and mmap may not be "
                    + "what LMDB needs", "put the pool on a local disk (ext4, xfs)");
        }
        return switch (type) {
            case "tmpfs", "ramfs" -> Check.warn("pool-disk", on + ": in memory, the pool takes RAM and is gone after "
                    + "a reboot", "fine for a try; put a pool you keep on a local disk (ext4, xfs)");
            case "overlay", "aufs" -> Check.warn("pool-disk", on + ": a container's layer, slower and gone with the "
                    + "container", "give the pool a volume or bind mount on a local disk");
            default -> Check.ok("pool-disk", on);
        };
    }

    static Check freeSpace(Path dir, long usable) {
        String free = formatBytes(usable) + " free on " + dir;
        if (usable < FREE_FAIL) {
            return Check.fail("pool-space", free + ": not enough for a database", "free space, or a pool on a larger disk");
        }
        if (usable < FREE_WARN) {
            return Check.warn("pool-space", free + ": a database of a few GB does not fit", "free space for the data you branch");
        }
        return Check.ok("pool-space", free);
    }

    private static String formatBytes(long b) {
        return b >= (1L << 30) ? String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", b >> 20);
    }
}
