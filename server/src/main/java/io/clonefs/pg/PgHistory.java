package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The history of a source ({@code pg history}): its WAL archived into the pool and snapshots taken
 * on a schedule, both kept for a window, so that a branch can start at any moment of it.
 *
 * <h2>Where it lives</h2>
 * {@code POOL/pg/history/NAME/wal/} holds the archived WAL files (owned by the PostgreSQL user,
 * 0700): the server's {@code archive_command} is {@code POOL/pg/history/archive-wal.sh}, which
 * copies a file there, fsyncs it, renames it into place and fsyncs the directory before it exits
 * 0, so PostgreSQL removes or recycles a segment only once it is durable in the pool; a file
 * archived again after a crash is accepted if identical. The marker {@code enabled} in the
 * server's directory turns the copy on; without it the script exits 0 at once (history off: the
 * server's segments are recycled as without archiving). The snapshots ({@code NAME@hist-TIME}) are
 * taken by the scheduler every {@code every}, each after a CHECKPOINT (so that a branch from it
 * replays only the WAL written after it, and the archive before it can go): each is
 * crash-consistent, and a branch from it replays archived WAL from that checkpoint.
 *
 * <h2>The window</h2>
 * From the oldest history snapshot to now. Every tick, the newest snapshot at or before
 * {@code now - keep} becomes the oldest kept: older history snapshots (without clones) are
 * destroyed, and archived segments older than the one holding that snapshot's checkpoint REDO
 * point ({@code pg_controldata}) are deleted.
 */
final class PgHistory {
    private static final Logger LOG = LoggerFactory.getLogger(PgHistory.class);
    static final String HISTORY_SNAPSHOT_PREFIX = "hist-";
    static final Duration DEFAULT_EVERY = Duration.ofMinutes(15);
    /** A snapshot also once this much WAL was written since the last: a branch replays at most about that much. */
    static final long DEFAULT_EVERY_WAL = 64L << 20;
    /** Every snapshot taken by WAL volume stays this long (at most half the window); older ones thin out. */
    static final Duration DENSE = Duration.ofHours(1);
    static final Duration ARCHIVE_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern CHECKPOINT_LSN = Pattern.compile("Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)");
    private static final String LSN_FILE = "snapshots.lsn";
    private static final Pattern REDO_FILE = Pattern.compile("Latest checkpoint's REDO WAL file:\\s+([0-9A-F]{24})");
    private static final String SCRIPT = """
            #!/bin/sh
            # clonefs: the archive_command of a PostgreSQL server whose history is on (clonefs pg history).
            # $1: the WAL file (%p, relative to the data directory), $2: its name (%f), $3: the server's
            # history directory. Exits 0 only once the file is durable in the archive.
            set -eu
            src=$1 name=$2 dir=$3
            [ -f "$dir/enabled" ] || exit 0
            dst=$dir/wal/$name
            if [ -f "$dst" ]; then
                cmp -s "$src" "$dst" && exit 0
                echo "clonefs archive: $dst exists with other content" >&2
                exit 1
            fi
            cp "$src" "$dst.tmp"
            sync "$dst.tmp"
            mv -f "$dst.tmp" "$dst"
            sync "$dir/wal"
            """;

    private static final String RESTORE_SCRIPT = """
            #!/bin/sh
            # clonefs: the restore_command of a branch at a moment of a source's history (clonefs pg branch --at).
            # $1: the file asked (%f), $2: where it goes (%p), then the directories to look in, in order:
            # the archive, then the source's pg_wal. Exits 1 when no directory has it.
            name=$1 dst=$2
            shift 2
            for dir in "$@"; do
                if [ -f "$dir/$name" ]; then
                    exec cp "$dir/$name" "$dst"
                fi
            done
            exit 1
            """;

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgProcesses processes;
    private final PgDataDirs dataDirs;
    private final PgTools tools;
    private final Path home;
    /** The REDO segment of each history snapshot (a snapshot does not change): one pg_controldata per snapshot, not per tick. */
    private final java.util.Map<String, String> redoBySnapshot = new java.util.concurrent.ConcurrentHashMap<>();
    /** Per source, the branches replaying its archive now: its history cannot be turned off nor its archive trimmed. */
    private final java.util.Map<String, java.util.Set<String>> replaying = new java.util.concurrent.ConcurrentHashMap<>();

    PgHistory(PgRegistry registry, PgVolumes volumes, PgProcesses processes, PgDataDirs dataDirs, PgTools tools, Path home) {
        this.registry = registry;
        this.volumes = volumes;
        this.processes = processes;
        this.dataDirs = dataDirs;
        this.tools = tools;
        this.home = home;
        try {
            Files.createDirectories(home);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
            writeScript(script(), SCRIPT);
            writeScript(restoreScript(), RESTORE_SCRIPT);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot set up " + home + ": " + e.getMessage(), e);
        }
    }

    private static void writeScript(Path script, String text) throws IOException {
        Path tmp = script.resolveSibling("." + script.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(tmp, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    Path script() {
        return home.resolve("archive-wal.sh");
    }

    Path restoreScript() {
        return home.resolve("restore-wal.sh");
    }

    Path dir(String name) {
        return home.resolve(name);
    }

    Path walDir(String name) {
        return dir(name).resolve("wal");
    }

    /** The settings a server with history runs with. */
    void apply(PgRecord rec, Postgres.Builder b) {
        if (rec.history() == null || rec.isBranch()) {
            return;
        }
        b.setting("archive_mode", rec.standby() ? "always" : "on")
                .setting("archive_command", script() + " \"%p\" \"%f\" \"" + dir(rec.name()) + "\"")
                .setting("archive_timeout", Long.toString(ARCHIVE_TIMEOUT.toSeconds()))
                .setting("track_commit_timestamp", "on");
    }

    // ---- on, off, status ---------------------------------------------------------------------

    /**
     * Turns history on (or changes its window or interval). The server's archiving starts at its
     * next start; with {@code restart} a running server is restarted now ({@code pg_ctl stop -m
     * fast}, start: its clients are disconnected).
     */
    PgApi.History enable(String name, Duration keep, Duration every, Long everyWal, boolean restart) {
        if (everyWal != null && everyWal != 0 && everyWal < 16L << 20) {
            throw new ClonefsException.InvalidArgument("a snapshot by WAL volume needs at least 16MiB (one segment), or 0 for "
                    + "by time only");
        }
        if (keep.toSeconds() < 10) {
            throw new ClonefsException.InvalidArgument("the history window must be at least 10s, not " + PgDurations.format(keep));
        }
        if (every.toSeconds() < 1) {
            throw new ClonefsException.InvalidArgument("the interval of history snapshots must be at least 1s");
        }
        if (every.compareTo(keep) > 0) {
            throw new ClonefsException.InvalidArgument("the interval of history snapshots (" + PgDurations.format(every)
                    + ") must not be longer than the window (" + PgDurations.format(keep) + ")");
        }
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            if (rec.isBranch()) {
                throw new ClonefsException.InvalidArgument("'" + name + "' is a branch; history is kept for sources");
            }
            try {
                dataDirs.makeDir(dir(name), "rwx------");
                dataDirs.makeDir(walDir(name), "rwx------");
                Files.writeString(dir(name).resolve("enabled"), "");
            } catch (IOException e) {
                throw new ClonefsException.IoFailure("cannot create " + dir(name) + ": " + e.getMessage(), e);
            }
            PgRecord.History h = new PgRecord.History(keep.toSeconds(), every.toSeconds(),
                    rec.history() == null ? Instant.now().toString() : rec.history().since(),
                    everyWal != null ? everyWal : rec.history() == null ? null : rec.history().everyWalBytes());
            PgRecord on = rec.withHistory(h);
            registry.put(on);
            if (restart && processes.running(on) && !archiving(on)) {
                processes.stop(on, Postgres.StopMode.FAST);
                processes.start(on, false);
                processes.awaitQuery(on);
            }
            LOG.info("history of {} on: window {}, snapshots every {}", name, PgDurations.format(keep),
                    PgDurations.format(every));
            return view(on);
        });
    }

    /** Turns history off: archiving stops at once, the archive and the history snapshots without clones are deleted. */
    PgApi.History disable(String name) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            if (rec.history() == null) {
                throw new ClonefsException.NotFound("history of '" + name + "' is off");
            }
            java.util.Set<String> readers = replaying.getOrDefault(name, java.util.Set.of());
            if (!readers.isEmpty()) {
                throw new ClonefsException.Conflict("branches replay the history of '" + name + "' now ("
                        + String.join(", ", new java.util.TreeSet<>(readers)) + "); turn it off once they answer");
            }
            try {
                Files.deleteIfExists(dir(name).resolve("enabled"));
            } catch (IOException e) {
                throw new ClonefsException.IoFailure("cannot turn off the archive of " + name + ": " + e.getMessage(), e);
            }
            PgRecord off = rec.withHistory(null);
            registry.put(off);
            PgApi.History last = view(rec);
            for (SnapshotInfo s : snapshots(name)) {
                if (s.clones().isEmpty()) {
                    volumes.destroyQuietly(s.name(), null);
                }
            }
            PgVolumes.deleteTreeQuietly(dir(name));
            LOG.info("history of {} off", name);
            return new PgApi.History(name, false, last.keep(), last.every(), last.since(), null, null, 0, 0, List.of(),
                    last.archiving(), last.lastArchivedWal(), last.lastArchivedAt(), last.failedCount(), null, List.of(), last.everyWal());
        });
    }

    PgApi.History status(String name) {
        PgRecord rec = registry.require(name);
        if (rec.history() == null) {
            throw new ClonefsException.NotFound("history of '" + name + "' is off (turn it on: clonefs pg history "
                    + name + " --keep 7d)");
        }
        return view(rec);
    }

    /** The history snapshots of {@code name}, newest first. */
    List<SnapshotInfo> snapshots(String name) {
        List<SnapshotInfo> out = new ArrayList<>();
        for (SnapshotInfo s : volumes.snapshotsOf(name)) {
            if (s.snapshot().startsWith(HISTORY_SNAPSHOT_PREFIX)) {
                out.add(s);
            }
        }
        out.sort(Comparator.comparing(SnapshotInfo::createdAt).reversed());
        return out;
    }

    private PgApi.History view(PgRecord rec) {
        PgRecord.History h = rec.history();
        List<SnapshotInfo> snaps = snapshots(rec.name());
        long[] wal = walSize(rec.name());
        String oldest = snaps.isEmpty() ? null : snaps.get(snaps.size() - 1).createdAt().toString();
        String lastWal = null;
        String lastAt = null;
        long failed = 0;
        boolean archiving = false;
        if (processes.running(rec)) {
            try (Connection c = Postgres.connect(rec.port(), Duration.ofSeconds(5)); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select current_setting('archive_mode') <> 'off', last_archived_wal, "
                         + "last_archived_time, failed_count from pg_stat_archiver")) {
                if (rs.next()) {
                    archiving = rs.getBoolean(1);
                    lastWal = rs.getString(2);
                    lastAt = rs.getTimestamp(3) == null ? null : rs.getTimestamp(3).toInstant().toString();
                    failed = rs.getLong(4);
                }
            } catch (SQLException e) {
                LOG.debug("archiver of {}: {}", rec.name(), e.getMessage());
            }
        }
        return new PgApi.History(rec.name(), true, PgDurations.format(Duration.ofSeconds(h.keepSeconds())),
                PgDurations.format(Duration.ofSeconds(h.everySeconds())), h.since(), oldest,
                archiving && oldest != null ? "now" : null, wal[0], wal[1],
                snaps.stream().map(SnapshotInfo::name).toList(), archiving, lastWal, lastAt, failed, oldestLsn(rec.name(), snaps),
                List.copyOf(new java.util.TreeSet<>(replaying.getOrDefault(rec.name(), java.util.Set.of()))),
                h.everyWal() == 0 ? "off" : io.clonefs.base.ByteSizes.format(h.everyWal()));
    }

    /** The LSN recorded for the oldest history snapshot that has one, or null. */
    private String oldestLsn(String name, List<SnapshotInfo> newestFirst) {
        java.util.Map<String, Long> lsns = snapshotLsns(name);
        String out = null;
        for (SnapshotInfo s : newestFirst) {
            Long l = lsns.get(s.name());
            if (l != null) {
                out = PgLsn.format(l);
            }
        }
        return out;
    }

        /** Bytes of the archives of every server with history. */
    long totalWalBytes() {
        long total = 0;
        for (PgRecord r : registry.servers()) {
            if (r.history() != null) {
                total += walSize(r.name())[0];
            }
        }
        return total;
    }

    /** Bytes and count of the archived files. */
    long[] walSize(String name) {
        long bytes = 0;
        long files = 0;
        Path d = walDir(name);
        if (!Files.isDirectory(d)) {
            return new long[] {0, 0};
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(d)) {
            for (Path f : s) {
                if (!f.getFileName().toString().endsWith(".tmp")) {
                    bytes += Files.size(f);
                    files++;
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot list {}: {}", d, e.getMessage());
        }
        return new long[] {bytes, files};
    }

    /** Whether the running server archives now (its archive_mode is on). */
    boolean archiving(PgRecord rec) {
        try {
            return !"off".equals(Postgres.query(rec.port(), "show archive_mode"));
        } catch (SQLException e) {
            return false;
        }
    }

    // ---- a branch at a moment ----------------------------------------------------------------

    /**
     * The history snapshot a branch at moment {@code m} starts from: the newest taken before it.
     * Refuses a moment outside the window, naming it.
     */
    String baseFor(PgRecord src, PgRecord.Moment m) {
        return m.lsn() != null ? baseForLsn(src, PgLsn.parse(m.lsn())) : baseFor(src, Instant.parse(m.time()));
    }

    private String baseFor(PgRecord src, Instant at) {
        List<SnapshotInfo> snaps = snapshots(src.name());
        if (snaps.isEmpty()) {
            throw new ClonefsException.NotFound("the history of '" + src.name() + "' has no snapshot yet (the first "
                    + "is taken once the server archives; see clonefs pg history " + src.name() + ")");
        }
        Instant oldest = snaps.get(snaps.size() - 1).createdAt();
        Instant now = Instant.now();
        if (at.isAfter(now)) {
            throw new ClonefsException.InvalidArgument(at + " is in the future; the history of '" + src.name()
                    + "' reaches from " + oldest + " to now");
        }
        for (SnapshotInfo s : snaps) {
            if (s.createdAt().isBefore(at)) {
                return s.name();
            }
        }
        throw new ClonefsException.InvalidArgument(at + " is before the history of '" + src.name() + "', which reaches "
                + "from " + oldest + " to now");
    }

    /**
     * The newest history snapshot whose WAL ends at or before {@code lsn} (its recorded end, {@link
     * #recordLsn}); refuses an LSN the source has not written yet or one before the window.
     */
    private String baseForLsn(PgRecord src, long lsn) {
        List<SnapshotInfo> snaps = snapshots(src.name());
        java.util.Map<String, Long> lsns = snapshotLsns(src.name());
        SnapshotInfo oldest = null;
        for (SnapshotInfo s : snaps) {
            if (lsns.containsKey(s.name())) {
                oldest = s;
            }
        }
        if (oldest == null) {
            throw new ClonefsException.NotFound("the history of '" + src.name() + "' has no snapshot with a known LSN yet "
                    + "(the first is taken once the server archives; see clonefs pg history " + src.name() + ")");
        }
        String from = "from LSN " + PgLsn.format(lsns.get(oldest.name())) + " (" + oldest.createdAt() + ") to ";
        Long end = endLsn(src);
        if (end != null && lsn > end) {
            throw new ClonefsException.InvalidArgument("LSN " + PgLsn.format(lsn) + " is in the future; the history of '"
                    + src.name() + "' reaches " + from + "LSN " + PgLsn.format(end));
        }
        for (SnapshotInfo s : snaps) {
            Long at = lsns.get(s.name());
            if (at != null && at <= lsn) {
                return s.name();
            }
        }
        throw new ClonefsException.InvalidArgument("LSN " + PgLsn.format(lsn) + " is before the history of '" + src.name()
                + "', which reaches " + from + "now");
    }

    /** Where the source's WAL ends now: its current LSN when it runs, else its last checkpoint's (pg_controldata). */
    private Long endLsn(PgRecord src) {
        if (processes.running(src)) {
            try {
                return PgLsn.parse(Postgres.query(src.port(), "select pg_current_wal_lsn()"));
            } catch (SQLException e) {
                LOG.debug("current LSN of {}: {}", src.name(), e.getMessage());
            }
        }
        Command.Result r = tools.run(Duration.ofSeconds(30), "pg_controldata", List.of("-D", processes.dataDir(src).toString()));
        Matcher m = CHECKPOINT_LSN.matcher(r.out());
        return r.ok() && m.find() ? PgLsn.parse(m.group(1)) : null;
    }

    /** Drops the recorded LSNs of snapshots that are gone. */
    private void forgetLsns(PgRecord rec, List<SnapshotInfo> left) {
        java.util.Map<String, Long> lsns = snapshotLsns(rec.name());
        List<String> names = left.stream().map(SnapshotInfo::name).toList();
        if (!names.containsAll(lsns.keySet())) {
            writeLsns(rec.name(), lsns, names);
        }
    }

    /** The WAL end recorded for each history snapshot of {@code name} ({@code snapshots.lsn}: lines NAME LSN). */
    java.util.Map<String, Long> snapshotLsns(String name) {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        Path f = dir(name).resolve(LSN_FILE);
        if (!Files.exists(f)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                String[] w = line.strip().split(" ");
                if (w.length == 2) {
                    out.put(w[0], PgLsn.parse(w[1]));
                }
            }
        } catch (IOException | ClonefsException e) {
            LOG.warn("cannot read {}: {}", f, e.getMessage());
        }
        return out;
    }

    /**
     * Records where the WAL in history snapshot {@code snap} ends at most: the server's insert
     * position read right after it was taken. A snapshot without one (a crash between the two) is
     * used for times only.
     */
    private void recordLsn(PgRecord rec, String snap, java.util.Collection<String> keep) {
        java.util.Map<String, Long> lsns = snapshotLsns(rec.name());
        try {
            lsns.put(snap, PgLsn.parse(Postgres.query(rec.port(), "select pg_current_wal_insert_lsn()")));
        } catch (SQLException e) {
            LOG.warn("LSN of history snapshot {}: {}", snap, e.getMessage());
        }
        writeLsns(rec.name(), lsns, keep);
    }

    private void writeLsns(String name, java.util.Map<String, Long> lsns, java.util.Collection<String> keep) {
        StringBuilder b = new StringBuilder();
        new java.util.TreeMap<>(lsns).forEach((k, v) -> {
            if (keep.contains(k)) {
                b.append(k).append(' ').append(PgLsn.format(v)).append('\n');
            }
        });
        try {
            io.clonefs.base.DurableFiles.writePrivate(dir(name).resolve(LSN_FILE), b.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.warn("cannot write the LSNs of the history of {}: {}", name, e.getMessage());
        }
    }

    /**
     * Refuses a recovery from history snapshot {@code snapshot} when the archive no longer holds
     * the WAL from its checkpoint on (it left the window): before anything is changed.
     */
    void requireWal(PgRecord src, String snapshot) {
        SnapshotInfo info = volumes.snapshotInfo(snapshot);
        String redo = redoSegment(info);
        if (redo == null) {
            return; // cannot tell; the recovery says it
        }
        if (!Files.exists(walDir(src.name()).resolve(redo)) && !Files.exists(processes.dataDir(src).resolve("pg_wal").resolve(redo))) {
            throw new ClonefsException.Conflict("the WAL after " + snapshot + " has left the history window of '" + src.name()
                    + "' (" + PgDurations.format(Duration.ofSeconds(src.history().keepSeconds())) + "); reset to a moment inside it "
                    + "(--at), or branch again");
        }
    }

    /** Marks {@code branch} as replaying the archive of {@code source} until {@link #endReplay}. */
    void beginReplay(String source, String branch) {
        replaying.computeIfAbsent(source, k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(branch);
    }

    void endReplay(String source, String branch) {
        replaying.computeIfPresent(source, (k, v) -> {
            v.remove(branch);
            return v.isEmpty() ? null : v;
        });
    }

    /**
     * Makes the WAL written until now readable by a recovery: on a running primary, a commit of an
     * empty transaction (a commit record later than any moment asked) and a switch to a new
     * segment, so that every segment up to the moment is complete, in the archive or still in the
     * source's {@code pg_wal}, where the restore command looks next ({@link #prepareRecovery}; the
     * source removes a segment only once it is archived). A stopped source's last segment is read
     * from its {@code pg_wal} the same way.
     */
    void flushArchive(PgRecord src) {
        if (!processes.running(src) || !archiving(src)) {
            return;
        }
        try (Connection c = Postgres.connect(src.port(), Duration.ofSeconds(10)); Statement st = c.createStatement()) {
            boolean standby;
            try (ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                standby = rs.getBoolean(1);
            }
            if (standby) {
                return; // it archives what it receives; its last segment is read from its pg_wal
            }
            // an empty transaction with an xid: a commit record after every moment asked so far, where a
            // recovery to a time stops (without one after the moment, PostgreSQL refuses to end recovery)
            st.executeQuery("select pg_current_xact_id()").close();
            st.executeQuery("select pg_switch_wal()").close();
        } catch (SQLException e) {
            throw new PgException.ToolFailed("cannot switch the WAL of '" + src.name() + "': " + e.getMessage());
        }
    }

    /**
     * Sets up a clone of a history snapshot to recover to {@code at} exactly and be promoted there:
     * {@code recovery.signal}, and in {@code postgresql.auto.conf} a {@code restore_command} that
     * reads the archive (then the source's {@code pg_wal}, for a stopped source's last segment),
     * {@code recovery_target_time} (inclusive: every transaction committed at or before it) or
     * {@code recovery_target_lsn} (exclusive: every WAL record that starts before it) and
     * {@code recovery_target_action = promote}.
     */
    void prepareRecovery(Path cloneData, PgRecord src, PgRecord.Moment m) {
        Path srcWal = processes.dataDir(src).resolve("pg_wal");
        String restore = restoreScript() + " \"%f\" \"%p\" \"" + walDir(src.name()) + "\" \"" + srcWal + "\"";
        String target = m.lsn() != null ? "recovery_target_lsn = '" + PgLsn.format(PgLsn.parse(m.lsn())) + "'"
                : "recovery_target_time = '" + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'")
                        .withZone(java.time.ZoneOffset.UTC).format(Instant.parse(m.time()).truncatedTo(java.time.temporal.ChronoUnit.MICROS)) + "'";
        List<String> lines = List.of(
                "# clonefs: recovery of " + src.name() + " to " + m,
                "restore_command = '" + restore.replace("'", "''") + "'",
                target,
                // a time: every transaction committed at or before it; an LSN: every record that starts before it
                "recovery_target_inclusive = " + (m.lsn() != null ? "off" : "on"),
                // paused there, then promoted by pg_promote(): a fast promotion (an end-of-recovery record),
                // where 'promote' waits for a whole checkpoint before the branch answers ({@link #promote})
                "recovery_target_action = 'pause'",
                "recovery_target_timeline = 'current'",
                "hot_standby = on");
        try {
            Path auto = cloneData.resolve("postgresql.auto.conf");
            Files.write(auto, lines, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND,
                    java.nio.file.StandardOpenOption.CREATE);
            Files.deleteIfExists(cloneData.resolve("standby.signal")); // it would win over recovery.signal
            Path signal = cloneData.resolve("recovery.signal");
            Files.writeString(signal, "");
            dataDirs.chown(signal);
            dataDirs.chown(auto);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot set up the recovery of " + cloneData + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether the last recovery of {@code rec} ended for want of WAL after its moment: PostgreSQL
     * stops a recovery to a time at the first commit after it, and refuses to end one that found
     * none ("recovery ended before configured recovery target was reached"). That WAL holds only
     * transactions committed at or before the moment.
     */
    boolean endedBeforeTarget(PgRecord rec) {
        return Postgres.tailOfFile(processes.logFile(rec.name()), 40).contains(
                "recovery ended before configured recovery target was reached");
    }

    /** Replaces the clone's recovery target by none: it replays all the WAL there is, then promotes. */
    void dropTarget(Path cloneData) {
        try {
            Path auto = cloneData.resolve("postgresql.auto.conf");
            Files.write(auto, List.of("# clonefs: no commit after the moment in the WAL; all of it is at or before it",
                    "recovery_target_time = ''", "recovery_target_lsn = ''"), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot set up the recovery of " + cloneData + ": " + e.getMessage(), e);
        }
    }

    /** Waits until a branch recovering to a moment has reached it and been promoted. */
    void awaitPromoted(PgRecord rec, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Connection c = Postgres.connect(rec.port(), Duration.ofSeconds(5)); Statement st = c.createStatement()) {
                while (true) {
                    String state;
                    try (ResultSet rs = st.executeQuery("select case when pg_is_in_recovery() "
                            + "then pg_get_wal_replay_pause_state() else 'promoted' end")) {
                        rs.next();
                        state = rs.getString(1);
                    }
                    if (state.equals("promoted")) {
                        return;
                    }
                    if (state.equals("paused")) {
                        promote(st);
                    }
                    checkDeadline(rec, deadline, timeout);
                    Thread.sleep(5);
                }
            } catch (SQLException e) {
                if (!processes.running(rec)) {
                    throw new PgException.StartFailed("PostgreSQL '" + rec.name() + "' stopped during its recovery ("
                            + processes.logFile(rec.name()) + ")", Postgres.tailOfFile(processes.logFile(rec.name()), 20));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgException.ToolFailed("interrupted while waiting for the recovery of '" + rec.name() + "'");
            }
            checkDeadline(rec, deadline, timeout);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgException.ToolFailed("interrupted while waiting for the recovery of '" + rec.name() + "'");
            }
        }
    }

    /**
     * Promotes a server paused at its recovery target, without the wait of up to a second a plain
     * {@code pg_promote()} has there: the paused startup process checks for a promotion only when
     * its one-second sleep ends or a resume wakes it, and a resume alone ends the recovery with a
     * whole checkpoint. So: the promotion is requested, then a resume wakes the startup process and a
     * pause right after it (in the same statement) keeps it in its loop, where it sees the promotion.
     * If it wakes only after both, it ends the recovery the slow way (that checkpoint): the same
     * result.
     */
    private static void promote(Statement st) throws SQLException, InterruptedException {
        st.executeQuery("select pg_promote(false)").close();
        Thread.sleep(20); // the postmaster passes the request on to the startup process
        st.executeQuery("select pg_wal_replay_resume(), pg_wal_replay_pause()").close();
    }

    private void checkDeadline(PgRecord rec, long deadline, Duration timeout) {
        if (System.nanoTime() > deadline) {
            throw new PgException.StartFailed("PostgreSQL '" + rec.name() + "' did not reach its recovery target within "
                    + PgDurations.format(timeout) + " (" + processes.logFile(rec.name()) + ")",
                    Postgres.tailOfFile(processes.logFile(rec.name()), 20));
        }
    }

    // ---- the clock ---------------------------------------------------------------------------

    /** One pass: a history snapshot where one is due, then the window moved. Never throws. */
    void tick() {
        Instant now = Instant.now();
        for (PgRecord r : registry.servers()) {
            if (r.history() == null || registry.closed()) {
                continue;
            }
            ReentrantLock l = registry.nameLock(r.name());
            if (!l.tryLock()) {
                continue; // busy; next tick
            }
            try {
                PgRecord cur = registry.find(r.name());
                if (cur == null || cur.history() == null) {
                    continue;
                }
                List<SnapshotInfo> snaps = snapshots(cur.name());
                boolean due = snaps.isEmpty()
                        || !snaps.get(0).createdAt().plusSeconds(cur.history().everySeconds()).isAfter(now)
                        || cur.history().everyWal() > 0 && walSince(cur, snaps.get(0)) >= cur.history().everyWal();
                // the first snapshot only once the server archives: the WAL after it must all reach the archive
                if (due && processes.running(cur) && archiving(cur)) {
                    processes.checkpoint(cur); // a branch from it replays only the WAL after it
                    String snap = volumes.takeSnapshot(cur.name(), HISTORY_SNAPSHOT_PREFIX);
                    LOG.info("history snapshot {} taken", snap);
                    snaps = snapshots(cur.name());
                    recordLsn(cur, snap, snaps.stream().map(SnapshotInfo::name).toList());
                }
                retain(cur, snaps, now);
            } catch (RuntimeException e) {
                LOG.warn("history of {}: {}", r.name(), e.getMessage());
            } finally {
                l.unlock();
            }
        }
    }

    /** Bytes of WAL the running source has written since history snapshot {@code last}, or 0 when unknown. */
    private long walSince(PgRecord rec, SnapshotInfo last) {
        if (rec.history().everyWal() <= 0 || !processes.running(rec)) {
            return 0;
        }
        Long at = snapshotLsns(rec.name()).get(last.name());
        if (at == null) {
            return 0;
        }
        try {
            return PgLsn.parse(Postgres.query(rec.port(), "select pg_current_wal_insert_lsn()")) - at;
        } catch (SQLException e) {
            return 0;
        }
    }

    /**
     * Older history thins out: of the snapshots taken more than {@link #DENSE} ago (at most half
     * the window, at least one interval), one per interval stays (by WAL volume, several can fall in
     * one interval); those with clones stay too.
     */
    private void thin(PgRecord rec, List<SnapshotInfo> newestFirst, Instant now) {
        Instant dense = now.minusSeconds(Math.max(rec.history().everySeconds(),
                Math.min(DENSE.toSeconds(), rec.history().keepSeconds() / 2)));
        Instant lastKept = null;
        for (int i = newestFirst.size() - 1; i >= 0; i--) {
            SnapshotInfo s = newestFirst.get(i);
            if (!s.createdAt().isBefore(dense)) {
                break;
            }
            if (lastKept == null || !s.createdAt().isBefore(lastKept.plusSeconds(rec.history().everySeconds()))
                    || !s.clones().isEmpty()) {
                lastKept = s.createdAt();
            } else {
                volumes.destroyQuietly(s.name(), null);
                LOG.info("history snapshot {} thinned out", s.name());
            }
        }
    }

    /** Moves the window: history snapshots and archived segments older than the oldest one needed go. */
    private void retain(PgRecord rec, List<SnapshotInfo> newestFirst, Instant now) {
        thin(rec, newestFirst, now);
        newestFirst = snapshots(rec.name());
        forgetLsns(rec, newestFirst);
        Instant edge = now.minusSeconds(rec.history().keepSeconds());
        SnapshotInfo base = null;
        for (SnapshotInfo s : newestFirst) {
            if (!s.createdAt().isAfter(edge)) {
                base = s;
                break;
            }
        }
        if (base == null || replaying.containsKey(rec.name())) {
            return; // every snapshot is inside the window, or a branch replays from an older one now
        }
        String redo = redoSegment(base);
        if (redo == null) {
            return;
        }
        for (SnapshotInfo s : newestFirst) {
            if (s.createdAt().isBefore(base.createdAt()) && s.clones().isEmpty()) {
                volumes.destroyQuietly(s.name(), null);
                LOG.info("history snapshot {} left the window", s.name());
            }
        }
        forgetLsns(rec, snapshots(rec.name()));
        try (DirectoryStream<Path> s = Files.newDirectoryStream(walDir(rec.name()))) {
            for (Path f : s) {
                String n = f.getFileName().toString();
                String seg = n.length() >= 24 ? n.substring(0, 24) : n;
                if (SEGMENT.matcher(seg).matches() && !n.endsWith(".history") && seg.substring(8).compareTo(redo.substring(8)) < 0) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot trim the archive of {}: {}", rec.name(), e.getMessage());
        }
    }

    /** The WAL segment holding the REDO point of a snapshot's last checkpoint (pg_controldata), or null. */
    String redoSegment(SnapshotInfo snap) {
        String known = redoBySnapshot.get(snap.name() + "#" + snap.id());
        if (known != null) {
            return known;
        }
        PgRecord rec = registry.find(snap.volume());
        String dd = rec == null ? "data" : rec.dataDir();
        Path dir = volumes.snapshotRoot(snap.name());
        if (!dd.isEmpty()) {
            dir = dir.resolve(dd);
        }
        Command.Result r = tools.run(Duration.ofSeconds(30), "pg_controldata", List.of("-D", dir.toString()));
        Matcher m = REDO_FILE.matcher(r.out());
        if (!r.ok() || !m.find()) {
            LOG.warn("pg_controldata of {} failed: {}", snap.name(), r.describe());
            return null;
        }
        redoBySnapshot.put(snap.name() + "#" + snap.id(), m.group(1));
        return m.group(1);
    }
}
