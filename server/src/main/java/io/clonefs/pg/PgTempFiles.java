package io.clonefs.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a managed server's temporary files go. PostgreSQL spills sorts, hashes and index builds
 * ({@code CREATE INDEX}, {@code VACUUM FULL}, a table rewrite) into {@code base/pgsql_tmp} of its
 * data directory. Those files live for one statement and are removed at the next start: nothing a
 * snapshot, a branch or a crash needs. In the volume they would cost copy-on-write blocks, FUSE
 * round trips and the daemon's write-back. So before every start, {@code base/pgsql_tmp} is made
 * a symbolic link to {@code POOL/pg/tmp/<server>} on the pool's own disk (mode 0700, the
 * PostgreSQL user's), as a native copy's temporary files sit on its disk.
 *
 * <p>The link is in the volume, so a snapshot and a branch carry it. Every start replaces a link
 * that names another directory (the source's, in a fresh branch), and a directory left by an
 * earlier layout (its files are temporary files, which PostgreSQL removes at start anyway). A
 * server's directory is removed with the server. When the link cannot be made, the server starts
 * anyway with its temporary files in the volume (logged).
 *
 * <p>Stateless apart from its configuration; callers serialise the operations on one server.
 */
final class PgTempFiles {
    private static final Logger LOG = LoggerFactory.getLogger(PgTempFiles.class);
    /** PostgreSQL's {@code PG_TEMP_FILES_DIR}, under {@code base/} for the default tablespace. */
    static final String DIR_NAME = "pgsql_tmp";

    private final Path root;
    private final PgDataDirs dataDirs;

    /**
     * @param root     {@code POOL/pg/tmp}: one directory per server beneath it
     * @param dataDirs owner and modes of the directories made
     */
    PgTempFiles(Path root, PgDataDirs dataDirs) {
        this.root = root;
        this.dataDirs = dataDirs;
    }

    /** The directory of server {@code name}'s temporary files. */
    Path dir(String name) {
        return root.resolve(name);
    }

    /**
     * Before server {@code name} starts on {@code data}: its directory exists and
     * {@code data/base/pgsql_tmp} links to it. Never fails the start: a link it cannot make leaves
     * the temporary files in the volume (logged).
     */
    void place(String name, Path data) {
        Path base = data.resolve("base");
        if (!Files.isDirectory(base, LinkOption.NOFOLLOW_LINKS)) {
            return; // not a data directory PostgreSQL can start on: its own error says so
        }
        Path dir = dir(name);
        Path link = base.resolve(DIR_NAME);
        boolean linked;
        try {
            linked = Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(dir);
            if (!linked && Files.isSymbolicLink(link)) {
                Files.delete(link); // another server's (a branch's source): never shared
            } else if (!linked && Files.isDirectory(link, LinkOption.NOFOLLOW_LINKS)) {
                PgDataDirs.deleteTree(link); // temporary files of a stopped server: PostgreSQL would remove them
            } else if (!linked && Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                LOG.warn("{} is not a directory; PostgreSQL '{}' keeps its temporary files where it finds them",
                        link, name);
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot replace {} ({}); PostgreSQL '{}' keeps its temporary files there", link, e.getMessage(), name);
            return;
        }
        try {
            dataDirs.makeDir(root, "rwx------");
            dataDirs.makeDir(dir, "rwx------");
            if (!linked) {
                Files.createSymbolicLink(link, dir);
                dataDirs.chown(link);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot link {} to {} ({}); PostgreSQL '{}' keeps its temporary files in its volume",
                    link, dir, e.getMessage(), name);
            try {
                Files.deleteIfExists(link); // no link to a directory that is not there: PostgreSQL makes its own
            } catch (IOException ignored) {
                // PostgreSQL's own error names it
            }
        }
    }

    /** Removes server {@code name}'s directory (the server is gone); what cannot be deleted is logged. */
    void remove(String name) {
        PgVolumes.deleteTreeQuietly(dir(name));
    }
}
