package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.pg.limits.Cgroups;
import io.clonefs.pg.limits.Limits;
import io.clonefs.pg.process.Postgres;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server's limits ({@link Limits}) put into effect: each server with a memory limit or a CPU
 * weight runs in a cgroup of its own, {@code PARENT/POOL/NAME} in each hierarchy
 * ({@link Cgroups}; {@code PARENT} is {@code clonefs} unless {@code CLONEFS_CGROUP_PARENT} says
 * otherwise, {@code POOL} the pool directory's name and a hash of its path). At every start the
 * group is made and its limits written, and {@code pg_ctl start} runs in a shell that first
 * writes its own pid to the group's {@code cgroup.procs}, so the postmaster and every backend are
 * born in it; when the server stops the group is removed. A limit changed while the server runs is
 * written at once (its processes moved in if it ran without a group).
 *
 * <p>Stateless apart from its configuration; callers serialise the operations on one server.
 */
final class PgLimiter {
    private static final Logger LOG = LoggerFactory.getLogger(PgLimiter.class);
    /** The shell that joins the groups named before {@code --}, then runs what follows. */
    private static final String JOIN = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";
    /** How long a stopped server's group may take to empty (its last processes being reaped). */
    private static final long REMOVE_WAIT_MILLIS = 5_000;

    private final Cgroups cgroups;
    private final String base;
    private final int keepDepth;
    private final PgOptions options;

    PgLimiter(Cgroups cgroups, String parent, String poolId, PgOptions options) {
        this.cgroups = cgroups;
        String p = parent == null || parent.isBlank() ? "clonefs" : parent.strip().replaceAll("^/+|/+$", "");
        if (p.contains("..") || p.isEmpty()) {
            throw new ClonefsException.InvalidArgument("CLONEFS_CGROUP_PARENT '" + parent + "' is not a cgroup path");
        }
        this.base = p + "/" + poolId;
        this.keepDepth = Path.of(p).getNameCount();
        this.options = options;
    }

    /**
     * The limiter of a pool on this host: its cgroups from the mount table, or under the directory
     * the system property {@code clonefs.cgroup.root} or {@code CLONEFS_CGROUP_ROOT} names (a test's
     * cgroup-like directory, or a host that mounts its hierarchies elsewhere); the parent from
     * {@code CLONEFS_CGROUP_PARENT}.
     */
    static PgLimiter forPool(Path pool, PgOptions options) {
        String root = System.getProperty("clonefs.cgroup.root", System.getenv("CLONEFS_CGROUP_ROOT"));
        Cgroups c = root == null || root.isBlank() ? Cgroups.detect() : Cgroups.at(Path.of(root));
        LOG.debug("server limits through {}", c);
        return new PgLimiter(c, System.getenv("CLONEFS_CGROUP_PARENT"), poolId(pool), options);
    }

    /** {@code NAME-HASH}: the pool directory's name (safe characters only) and 8 hex digits of its path's SHA-256. */
    static String poolId(Path pool) {
        Path abs = pool.toAbsolutePath().normalize();
        String name = abs.getFileName() == null ? "pool" : abs.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(abs.toString().getBytes(StandardCharsets.UTF_8));
            return name + "-" + HexFormat.of().formatHex(h, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Cgroups cgroups() {
        return cgroups;
    }

    /** The group of server {@code name}, relative to each hierarchy's root. */
    String group(String name) {
        return base + "/" + name;
    }

    /**
     * Checks limits asked for: values that make sense on this host, and cgroups that can set them.
     * Nothing is changed.
     */
    Limits check(Limits limits) {
        Limits l = Limits.of(limits).validate();
        cgroups.require(l);
        return l;
    }

    /**
     * The programs to start {@code rec}'s server with: {@code tools} as they are when it has no
     * limits (a group left from before is removed), else the same with {@code pg_ctl start} run
     * inside its group, made and limited now.
     */
    Postgres.Programs starting(PgRecord rec, PgTools tools) {
        Limits l = Limits.of(rec.limits());
        if (l.none()) {
            release(rec);
            return tools;
        }
        List<Path> procs = cgroups.apply(group(rec.name()), l);
        return (timeout, tool, args) -> {
            if (!tool.equals("pg_ctl") || args.isEmpty() || !args.get(0).equals("start")) {
                return tools.run(timeout, tool, args);
            }
            List<String> pgctl = new ArrayList<>();
            pgctl.add(tools.bin(tool));
            pgctl.addAll(args);
            List<String> cmd = new ArrayList<>(List.of("sh", "-c", JOIN, "clonefs-cgroup"));
            procs.forEach(p -> cmd.add(p.toString()));
            cmd.add("--");
            cmd.addAll(Command.of(pgctl).asUser(options.osUser()).command());
            try {
                return Command.of(cmd).unsetEnv("PGPASSWORD").mergeStderr().timeout(timeout).run();
            } catch (UncheckedIOException e) {
                throw new PgException.Setup("cannot run pg_ctl as " + options.osUser() + ": " + e.getMessage());
            } catch (Command.Aborted e) {
                throw new PgException.ToolFailed("pg_ctl did not finish within " + PgTools.human(timeout) + ": "
                        + Postgres.tail(e.output(), 5));
            }
        };
    }

    /**
     * Writes changed limits of a running server into its group at once; a server that ran without
     * one has its postmaster and backends moved in.
     */
    void applyRunning(PgRecord rec, long postmasterPid) {
        Limits l = Limits.of(rec.limits());
        boolean had = hasGroup(rec.name());
        List<Path> procs = cgroups.apply(group(rec.name()), l);
        if (!had && !procs.isEmpty()) {
            List<Long> pids = new ArrayList<>();
            pids.add(postmasterPid);
            ProcessHandle.of(postmasterPid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
            cgroups.join(procs, pids);
        }
    }

    /** Whether server {@code name} has a group now. */
    boolean hasGroup(String name) {
        return cgroups.dirs(group(name)).stream().anyMatch(Files::isDirectory);
    }

    /** Removes a stopped server's group, if it has one (logged, never thrown, when it cannot). */
    void release(PgRecord rec) {
        if (cgroups.version() == Cgroups.Version.NONE || !hasGroup(rec.name())) {
            return;
        }
        try {
            cgroups.remove(group(rec.name()), keepDepth, REMOVE_WAIT_MILLIS);
        } catch (RuntimeException e) {
            LOG.warn("cannot remove the cgroup of {}: {}", rec.name(), e.toString());
        }
    }

    @Override
    public String toString() {
        return cgroups + ", groups " + base + "/NAME";
    }
}
