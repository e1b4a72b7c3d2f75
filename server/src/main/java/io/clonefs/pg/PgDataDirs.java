package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.FileTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The files of data directories on the mount, as PostgreSQL needs them: owned by its OS user,
 * mode 0700, no stale {@code postmaster.pid} in a clone, no primary connection in a clone of a
 * standby, configuration files for an imported server that kept them elsewhere; and the waits for
 * the kernel's view of a volume just created or destroyed.
 *
 * <p>Stateless apart from its configuration; callers serialise the operations on one volume.
 */
final class PgDataDirs {
    private final Path mountpoint;
    private final String osUser;
    private final UserPrincipal pgUser;
    private final GroupPrincipal pgGroup;

    PgDataDirs(Path mountpoint, String osUser, UserPrincipal pgUser, GroupPrincipal pgGroup) {
        this.mountpoint = mountpoint;
        this.osUser = osUser;
        this.pgUser = pgUser;
        this.pgGroup = pgGroup;
    }

    /** Creates {@code data} (mode 0700, owned by the PostgreSQL user); refuses one in use. True when it made it. */
    boolean makeDataDir(String volume, Path data) {
        try {
            if (Files.exists(data.resolve("PG_VERSION"))) {
                throw new ClonefsException.AlreadyExists("volume '" + volume
                        + "' already holds a PostgreSQL data directory; start it with 'clonefs pg start " + volume + "'");
            }
            if (Files.isDirectory(data)) {
                try (var entries = Files.list(data)) {
                    if (entries.findAny().isPresent()) {
                        throw new ClonefsException.InvalidArgument(data + " is not empty");
                    }
                }
                chown(data);
                Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
                return false;
            }
            Files.createDirectory(data);
            chown(data);
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
            return true;
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot prepare " + data + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes a fresh clone startable: removes the copied {@code postmaster.pid} (its pid is the
     * source's live postmaster, which would make PostgreSQL refuse to start) and, for a clone of a
     * standby, the primary connection written by {@code pg_basebackup -R}. True when the clone
     * must be promoted (it holds {@code standby.signal} or {@code recovery.signal}).
     */
    boolean prepareClone(String volume, String dir) {
        Path data = awaitVisible(dir.isEmpty() ? mountpoint.resolve(volume) : mountpoint.resolve(volume).resolve(dir));
        try {
            Files.deleteIfExists(data.resolve("postmaster.pid"));
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot remove " + data.resolve("postmaster.pid") + ": " + e.getMessage(), e);
        }
        boolean promote = Files.exists(data.resolve("standby.signal")) || Files.exists(data.resolve("recovery.signal"));
        if (promote) {
            stripPrimaryConninfo(data.resolve("postgresql.auto.conf"));
        }
        return promote;
    }

    private static void stripPrimaryConninfo(Path autoConf) {
        try {
            if (!Files.exists(autoConf)) {
                return;
            }
            List<String> lines = Files.readAllLines(autoConf, StandardCharsets.UTF_8);
            List<String> kept = lines.stream()
                    .filter(l -> !l.stripLeading().startsWith("primary_conninfo")
                            && !l.stripLeading().startsWith("primary_slot_name"))
                    .toList();
            if (kept.size() != lines.size()) {
                // rewritten in place, so that owner and mode stay the PostgreSQL user's
                Files.write(autoConf, kept, StandardCharsets.UTF_8, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot rewrite " + autoConf + ": " + e.getMessage(), e);
        }
    }

    /**
     * A server whose configuration lives outside its data directory (Debian keeps it in
     * {@code /etc/postgresql}) is copied without {@code postgresql.conf}, {@code pg_hba.conf} and
     * {@code pg_ident.conf}; write minimal ones: loopback only, trusted, like every managed server.
     */
    void completeConfig(Path data) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("postgresql.conf", "# written by clonefs: the imported server kept its configuration elsewhere\n"
                + "# port, listen_addresses and unix_socket_directories are given on the command line\n");
        files.put("pg_hba.conf", "# written by clonefs: the server listens on 127.0.0.1 only\n"
                + "local   all             all                                     trust\n"
                + "host    all             all             127.0.0.1/32            trust\n"
                + "local   replication     all                                     trust\n"
                + "host    replication     all             127.0.0.1/32            trust\n");
        files.put("pg_ident.conf", "");
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = data.resolve(f.getKey());
            if (Files.exists(p)) {
                continue;
            }
            try {
                Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
                chown(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
            } catch (IOException e) {
                throw new ClonefsException.IoFailure("cannot write " + p + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Waits until a path of a volume just created (or re-created) is visible through the mount:
     * the kernel may still hold the old volume's dentry for a moment, and the mount answers its
     * first revalidation with ENOENT.
     */
    static Path awaitVisible(Path p) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            if (System.nanoTime() > deadline) {
                throw new ClonefsException.IoFailure(p + " did not appear in the mount", null);
            }
            PgTools.sleep(5);
        }
        return p;
    }

    /**
     * Waits until the mount no longer shows a volume the engine no longer has. The kernel keeps a
     * volume's dentry and attributes for the mount's cache timeout (a second) after it was
     * destroyed; a volume re-created under that name before the kernel noticed would be served
     * one ENOENT on its first revalidation, which a starting PostgreSQL must not be the one to see.
     */
    void awaitGoneFromMount(String volume) {
        Path root = mountpoint.resolve(volume);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            if (System.nanoTime() > deadline) {
                throw new ClonefsException.Conflict("the mount still shows volume '" + volume + "' after it was destroyed");
            }
            PgTools.sleep(20);
        }
    }

    void chown(Path p) throws IOException {
        PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        v.setOwner(pgUser);
        v.setGroup(pgGroup);
    }

    void makeDir(Path dir, String mode) throws IOException {
        Files.createDirectories(dir);
        chown(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
    }

    /** Refuses a directory the PostgreSQL user cannot reach: every parent must let others (or it) search. */
    void checkReachable(Path dir) {
        for (Path p = dir.getParent(); p != null; p = p.getParent()) {
            try {
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
                boolean ok = a.permissions().contains(PosixFilePermission.OTHERS_EXECUTE)
                        || a.owner().equals(pgUser) && a.permissions().contains(PosixFilePermission.OWNER_EXECUTE)
                        || a.group().equals(pgGroup) && a.permissions().contains(PosixFilePermission.GROUP_EXECUTE);
                if (!ok) {
                    throw new PgException.Setup("the PostgreSQL user '" + osUser + "' cannot reach " + dir
                            + ": " + p + " is mode " + PosixFilePermissions.toString(a.permissions())
                            + " (run: chmod o+x " + p + ")");
                }
            } catch (IOException e) {
                throw new ClonefsException.IoFailure("cannot read " + p + ": " + e.getMessage(), e);
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        FileTrees.delete(root);
    }
}
