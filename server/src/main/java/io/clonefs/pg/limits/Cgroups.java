package io.clonefs.pg.limits;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.MountTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's control groups, as far as a server's limits need them: where the {@code memory} and
 * {@code cpu} controllers are, and how to make, limit, join and remove a group of processes.
 *
 * <ul>
 *   <li><b>cgroup v2</b> (unified; Debian 12): one hierarchy. Its root's {@code cgroup.controllers}
 *       lists the controllers it offers; a group's children get one once it is enabled in the
 *       group's {@code cgroup.subtree_control} ({@code +memory +cpu}), from the root down. Limits:
 *       {@code memory.max} (and {@code memory.swap.max 0}: the limit is on RAM, not pushed into
 *       swap), {@code cpu.weight} (1..10000, 100 the default).</li>
 *   <li><b>cgroup v1</b>: a hierarchy per controller, mounted where {@code /proc/self/mountinfo}
 *       says (a {@code cgroup} mount whose super options name it, e.g. {@code /sys/fs/cgroup/memory},
 *       {@code /sys/fs/cgroup/cpu,cpuacct}). Limits: {@code memory.limit_in_bytes} (and
 *       {@code memory.memsw.limit_in_bytes} where swap accounting is on), {@code cpu.shares}
 *       (from the weight as systemd converts it: {@link Limits#cpuShares(int)}).</li>
 * </ul>
 * v1 wins when it has both controllers (a hybrid host's cgroup2 mount then has none); a host
 * with neither usable is {@link #none}, and every limit asked of it is refused with the reason.
 *
 * <p>A group is named by a path relative to each hierarchy's root ({@code clonefs/POOL/SERVER});
 * the roots come from the mount table or, for tests, are given ({@link #v2(Path)},
 * {@link #v1(Path, Path)}). Processes join a group by writing their pid to its
 * {@code cgroup.procs} ({@link #procsFiles}); their children are born in it. Stateless;
 * thread-safe as the file system is.
 */
public final class Cgroups {
    private static final Logger LOG = LoggerFactory.getLogger(Cgroups.class);

    /** Which cgroup interface the host has. */
    public enum Version { V1, V2, NONE }

    private final Version version;
    /** v2: the hierarchy's root; v1: the memory hierarchy's root (null when absent). */
    private final Path memoryRoot;
    /** v2: the same root; v1: the cpu hierarchy's root (null when absent). */
    private final Path cpuRoot;
    /** Why there is no usable cgroup setup, or what is missing ("" when both controllers are there). */
    private final String missing;

    private Cgroups(Version version, Path memoryRoot, Path cpuRoot, String missing) {
        this.version = version;
        this.memoryRoot = memoryRoot;
        this.cpuRoot = cpuRoot;
        this.missing = missing;
    }

    /** cgroup v2 with its hierarchy at {@code root}; the controllers are those its {@code cgroup.controllers} lists. */
    public static Cgroups v2(Path root) {
        Set<String> offered = tokens(read(root.resolve("cgroup.controllers")));
        boolean mem = offered.contains("memory");
        boolean cpu = offered.contains("cpu");
        if (!mem && !cpu) {
            return none("the cgroup v2 hierarchy at " + root + " offers neither the memory nor the cpu controller");
        }
        return new Cgroups(Version.V2, mem ? root : null, cpu ? root : null,
                mem && cpu ? "" : "the cgroup v2 hierarchy at " + root + " offers no " + (mem ? "cpu" : "memory")
                        + " controller");
    }

    /** cgroup v1 with the memory and cpu hierarchies at these roots (either may be null: not mounted). */
    public static Cgroups v1(Path memory, Path cpu) {
        if (memory == null && cpu == null) {
            return none("no cgroup v1 memory or cpu hierarchy is mounted");
        }
        return new Cgroups(Version.V1, memory, cpu, memory != null && cpu != null ? ""
                : "no cgroup v1 " + (memory == null ? "memory" : "cpu") + " hierarchy is mounted");
    }

    /** A host where no limit can be set, and why. */
    public static Cgroups none(String why) {
        return new Cgroups(Version.NONE, null, null, why);
    }

    /** The host's setup, from {@code /proc/self/mountinfo}. */
    public static Cgroups detect() {
        return detect(MountTable.read());
    }

    /**
     * The setup under one directory instead of the mount table's (a test's directory laid out
     * like a cgroup file system): cgroup v2 when it holds {@code cgroup.controllers}, else cgroup
     * v1 with its {@code memory} and {@code cpu} (or {@code cpu,cpuacct}) subdirectories, else none.
     */
    public static Cgroups at(Path root) {
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            return v2(root);
        }
        Path memory = Files.isDirectory(root.resolve("memory")) ? root.resolve("memory") : null;
        Path cpu = Files.isDirectory(root.resolve("cpu")) ? root.resolve("cpu")
                : Files.isDirectory(root.resolve("cpu,cpuacct")) ? root.resolve("cpu,cpuacct") : null;
        if (memory == null && cpu == null) {
            return none("no cgroup hierarchy at " + root + " (neither cgroup.controllers nor memory/ or cpu/)");
        }
        return v1(memory, cpu);
    }

    /**
     * The setup these mounts give: cgroup v1 where a {@code cgroup} mount carries the memory or
     * the cpu controller, else cgroup v2 where a {@code cgroup2} mount offers either, else none.
     */
    public static Cgroups detect(List<MountTable.Entry> mounts) {
        Path memory = null;
        Path cpu = null;
        List<Path> unified = new ArrayList<>();
        for (MountTable.Entry e : mounts) {
            if (e.fstype().equals("cgroup")) {
                if (e.hasSuperOption("memory")) {
                    memory = Path.of(e.mountpoint());
                }
                if (e.hasSuperOption("cpu")) {
                    cpu = Path.of(e.mountpoint());
                }
            } else if (e.fstype().equals("cgroup2")) {
                unified.add(Path.of(e.mountpoint()));
            }
        }
        if (memory != null || cpu != null) {
            return v1(memory, cpu);
        }
        String why = "no cgroup hierarchy is mounted (neither cgroup v2 nor the v1 memory and cpu controllers)";
        for (Path root : unified) {
            Cgroups c = v2(root);
            if (c.version == Version.V2) {
                return c;
            }
            why = c.missing;
        }
        return none(why);
    }

    public Version version() {
        return version;
    }

    /** Whether a memory limit can be set. */
    public boolean hasMemory() {
        return memoryRoot != null;
    }

    /** Whether a CPU weight can be set. */
    public boolean hasCpu() {
        return cpuRoot != null;
    }

    /** What is missing, "" when nothing is. */
    public String missing() {
        return missing;
    }

    /**
     * Refuses limits the host cannot set, with the reason; nothing is changed.
     *
     * @throws ClonefsException.InvalidArgument naming what is missing
     */
    public void require(Limits limits) {
        if (limits.memory() != null && !hasMemory()) {
            throw new ClonefsException.InvalidArgument("cannot limit memory on this host: " + missing);
        }
        if (limits.cpuWeight() != null && !hasCpu()) {
            throw new ClonefsException.InvalidArgument("cannot set a CPU weight on this host: " + missing);
        }
    }

    /** The directories of group {@code group} (one for v2, one per hierarchy for v1). */
    public List<Path> dirs(String group) {
        Set<Path> d = new LinkedHashSet<>();
        if (memoryRoot != null) {
            d.add(memoryRoot.resolve(group));
        }
        if (cpuRoot != null) {
            d.add(cpuRoot.resolve(group));
        }
        return List.copyOf(d);
    }

    /**
     * Makes group {@code group} (with its parents) where {@code limits} need it and writes them:
     * a memory limit only in the memory hierarchy, a weight only in the cpu one (on v2 both in
     * the one group, with the controllers enabled from the root down). A limit left out is
     * reset to none (the default weight) in a group that exists. Returns the {@code cgroup.procs}
     * files a process writes its pid to, to join (empty: no limits, nothing made).
     *
     * @throws ClonefsException.InvalidArgument when the host lacks a controller ({@link #require})
     * @throws ClonefsException.IoFailure when the cgroup file system refuses
     */
    public List<Path> apply(String group, Limits limits) {
        require(limits);
        if (limits.none() && dirs(group).stream().noneMatch(Files::isDirectory)) {
            return List.of();
        }
        try {
            return switch (version) {
                case V2 -> List.of(applyV2(group, limits));
                case V1 -> applyV1(group, limits);
                case NONE -> throw new IllegalStateException("require() let a limit through on a host without cgroups");
            };
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot set the limits of cgroup " + group + ": " + e, e);
        }
    }

    private Path applyV2(String group, Limits limits) throws IOException {
        Path root = memoryRoot != null ? memoryRoot : cpuRoot;
        List<String> want = new ArrayList<>();
        if (hasMemory()) {
            want.add("memory");
        }
        if (hasCpu()) {
            want.add("cpu");
        }
        // enable the controllers for the children of every group from the root down to the leaf's parent
        Path dir = root;
        for (Path part : Path.of(group)) {
            enable(dir, want);
            dir = dir.resolve(part.toString());
            mkdir(dir);
        }
        if (hasMemory()) {
            write(dir.resolve("memory.max"), limits.memory() == null ? "max" : Long.toString(limits.memory()));
            writeIfPresent(dir.resolve("memory.swap.max"), limits.memory() == null ? "max" : "0");
        }
        if (hasCpu()) {
            write(dir.resolve("cpu.weight"), Integer.toString(limits.cpuWeight() == null ? Limits.DEFAULT_WEIGHT
                    : limits.cpuWeight()));
        }
        return dir.resolve("cgroup.procs");
    }

    /** Adds the controllers missing from {@code dir}'s {@code cgroup.subtree_control}. */
    private static void enable(Path dir, List<String> controllers) throws IOException {
        Path control = dir.resolve("cgroup.subtree_control");
        Set<String> on = tokens(read(control));
        StringBuilder add = new StringBuilder();
        for (String c : controllers) {
            if (!on.contains(c)) {
                add.append(add.length() == 0 ? "" : " ").append('+').append(c);
            }
        }
        if (add.length() > 0) {
            write(control, add.toString());
        }
    }

    private List<Path> applyV1(String group, Limits limits) throws IOException {
        List<Path> procs = new ArrayList<>();
        if (hasMemory() && (limits.memory() != null || Files.isDirectory(memoryRoot.resolve(group)))) {
            Path dir = memoryRoot.resolve(group);
            mkdirs(memoryRoot, group);
            String bytes = limits.memory() == null ? "-1" : Long.toString(limits.memory());
            Path memsw = dir.resolve("memory.memsw.limit_in_bytes");
            if (limits.memory() == null) {
                writeIfPresent(memsw, bytes); // raise memsw first: it may never be below the limit
                write(dir.resolve("memory.limit_in_bytes"), bytes);
            } else {
                long now = readLong(dir.resolve("memory.limit_in_bytes"));
                if (now >= 0 && now < limits.memory()) {
                    writeIfPresent(memsw, bytes); // raising: memsw first
                    write(dir.resolve("memory.limit_in_bytes"), bytes);
                } else {
                    write(dir.resolve("memory.limit_in_bytes"), bytes);
                    writeIfPresent(memsw, bytes);
                }
            }
            procs.add(dir.resolve("cgroup.procs"));
        }
        if (hasCpu() && (limits.cpuWeight() != null || Files.isDirectory(cpuRoot.resolve(group)))) {
            Path dir = cpuRoot.resolve(group);
            mkdirs(cpuRoot, group);
            int weight = limits.cpuWeight() == null ? Limits.DEFAULT_WEIGHT : limits.cpuWeight();
            write(dir.resolve("cpu.shares"), Long.toString(Limits.cpuShares(weight)));
            if (!procs.contains(dir.resolve("cgroup.procs"))) {
                procs.add(dir.resolve("cgroup.procs"));
            }
        }
        return procs;
    }

    /**
     * Moves processes into group {@code group} (made by {@link #apply}) by their pids, e.g. a
     * running server's postmaster and its children. A pid that has gone meanwhile is skipped.
     */
    public void join(List<Path> procsFiles, List<Long> pids) {
        for (Path f : procsFiles) {
            for (long pid : pids) {
                try {
                    write(f, Long.toString(pid));
                } catch (IOException e) {
                    if (Files.exists(Path.of("/proc", Long.toString(pid)))) {
                        throw new ClonefsException.IoFailure("cannot move process " + pid + " into " + f.getParent()
                                + ": " + e, e);
                    }
                }
            }
        }
    }

    /**
     * Removes group {@code group} from every hierarchy, then its parents where empty, keeping the
     * first {@code keepDepth} levels below the root (the shared {@code clonefs} group). A group
     * still holding processes (a postmaster's child not yet reaped) is retried for up to
     * {@code waitMillis}, then left with a warning. Returns whether every directory of the group
     * is gone.
     */
    public boolean remove(String group, int keepDepth, long waitMillis) {
        Path g = Path.of(group);
        Set<Path> roots = new LinkedHashSet<>();
        if (memoryRoot != null) {
            roots.add(memoryRoot);
        }
        if (cpuRoot != null) {
            roots.add(cpuRoot);
        }
        boolean gone = true;
        for (Path root : roots) {
            gone &= rmdir(root.resolve(group), waitMillis);
            for (int n = g.getNameCount() - 1; n > keepDepth; n--) {
                if (!rmdir(root.resolve(g.subpath(0, n).toString()), 0)) {
                    break;
                }
            }
        }
        return gone;
    }

    /**
     * Removes one group directory. The kernel refuses {@code rmdir} while it holds processes, and
     * its interface files cannot be deleted; a directory laid out by a test (plain files) has its
     * files deleted first.
     */
    private static boolean rmdir(Path dir, long waitMillis) {
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        while (true) {
            try {
                Files.delete(dir);
                return true;
            } catch (NoSuchFileException e) {
                return true;
            } catch (DirectoryNotEmptyException e) {
                if (!isCgroupFs(dir) && onlyFiles(dir)) {
                    deleteFiles(dir);
                    continue;
                }
                if (System.nanoTime() >= deadline) {
                    if (waitMillis > 0) {
                        LOG.warn("cannot remove cgroup {}: {}", dir, e.getMessage());
                    }
                    return false;
                }
            } catch (IOException e) {
                if (System.nanoTime() >= deadline) {
                    if (waitMillis > 0) {
                        LOG.warn("cannot remove cgroup {}: {}", dir, e.toString());
                    }
                    return false;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** A real cgroup directory: its rmdir fails with EBUSY (an IOException) when busy, ENOTEMPTY when it has children. */
    private static boolean isCgroupFs(Path dir) {
        try {
            String type = Files.getFileStore(dir).type();
            return type.equals("cgroup") || type.equals("cgroup2");
        } catch (IOException e) {
            return true;
        }
    }

    private static boolean onlyFiles(Path dir) {
        try (var s = Files.list(dir)) {
            return s.allMatch(Files::isRegularFile);
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteFiles(Path dir) {
        try (var s = Files.list(dir)) {
            for (Path f : s.toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            LOG.debug("cannot empty {}: {}", dir, e.toString());
        }
    }

    /** The pids in a group's {@code cgroup.procs} (all hierarchies). */
    public List<Long> pids(String group) {
        Set<Long> out = new LinkedHashSet<>();
        for (Path dir : dirs(group)) {
            for (String t : tokens(read(dir.resolve("cgroup.procs")))) {
                out.add(Long.parseLong(t));
            }
        }
        return List.copyOf(out);
    }

    // ---- files ---------------------------------------------------------------------------------

    private static void mkdirs(Path root, String group) throws IOException {
        Path dir = root;
        for (Path part : Path.of(group)) {
            dir = dir.resolve(part.toString());
            mkdir(dir);
        }
    }

    private static void mkdir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made meanwhile
            }
        }
    }

    /** Writes one value as the kernel's interface files take it: one write, no truncation needed. */
    static void write(Path file, String value) throws IOException {
        Files.writeString(file, value + "\n", StandardCharsets.US_ASCII);
    }

    private static void writeIfPresent(Path file, String value) throws IOException {
        if (Files.exists(file)) {
            write(file, value);
        }
    }

    /** A file's text, "" when it cannot be read. */
    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    private static long readLong(Path file) {
        try {
            return Long.parseLong(read(file).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Set<String> tokens(String text) {
        Set<String> out = new LinkedHashSet<>();
        for (String t : text.strip().split("\\s+")) {
            if (!t.isEmpty()) {
                out.add(t.startsWith("+") ? t.substring(1) : t);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return switch (version) {
            case V2 -> "cgroup v2 at " + (memoryRoot != null ? memoryRoot : cpuRoot);
            case V1 -> "cgroup v1 (memory " + memoryRoot + ", cpu " + cpuRoot + ")";
            case NONE -> "no cgroups (" + missing + ")";
        };
    }
}
