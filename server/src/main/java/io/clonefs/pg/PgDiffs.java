package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.base.SnapshotName;
import io.clonefs.engine.DirEntry;
import io.clonefs.engine.Engine;
import io.clonefs.engine.ExtentDiff;
import io.clonefs.engine.FileType;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.Names;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.engine.VolumeFs;
import io.clonefs.pg.PgManager.BranchSpec;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pg diff A B}: what differs between two servers, volumes or snapshots of one lineage.
 *
 * <h2>Sides</h2>
 * A side named {@code volume@snap} is that snapshot. Any other name is a managed server or a volume
 * holding a data directory: a running server is {@code CHECKPOINT}ed (so its files hold what it
 * committed), then a snapshot {@code <volume>@pgdiff-<UTC time>} of its volume is taken (after the
 * mount's {@code syncfs}); a stopped one is snapshotted as it is. Those snapshots are destroyed
 * when the diff ends, whatever happens. Both sides must descend from one volume (follow each
 * volume's origin snapshot to a volume without one): else one line, nothing made.
 *
 * <h2>Data</h2>
 * The engine walks the two snapshots' trees together and skips every node they share, so the
 * cost is in what differs, not in the database's size. Pages are compared file by file (by path
 * in the data directory, as a {@code cmp} of the two directories would): a page whose block is the
 * same on both sides is equal and never read; a page whose blocks differ is read on both sides and
 * counted only if its bytes differ (PostgreSQL writes back pages whose bytes did not change, e.g.
 * at a checkpoint after only a hint bit was set and reset; those are not counted); a page that
 * exists on one side only counts. A relation rewritten ({@code VACUUM FULL}, {@code CLUSTER},
 * {@code ALTER ... TYPE}) gets a new file: the report shows its old file as existing in A only and
 * its new one in B only. Relation names come from each side's {@code pg_class}
 * ({@code pg_relation_filenode}, per database); a side with no running server (a snapshot, a
 * stopped server) is started as a throwaway branch for that, destroyed afterwards.
 *
 * <h2>Schema</h2>
 * {@code pg_dump --schema-only --no-owner} of one database on each side (throwaway branches for
 * sides without a running server), normalised ({@link PgDiffFiles#normaliseSchema}) and compared
 * with {@code diff -u}.
 */
final class PgDiffs {
    private static final Logger LOG = LoggerFactory.getLogger(PgDiffs.class);
    static final String SNAPSHOT_PREFIX = "pgdiff-";

    /** One side as named: the snapshot to use (null until taken), the volume, its server if any. */
    private static final class Side {
        final String name;
        final String volume;
        final PgRecord server;
        final String dataDir;
        String snapshot;
        boolean snapshotTaken;
        String throwaway;
        int port;

        Side(String name, String volume, PgRecord server, String dataDir, String snapshot) {
            this.name = name;
            this.volume = volume;
            this.server = server;
            this.dataDir = dataDir;
            this.snapshot = snapshot;
        }
    }

    /** A file of a relation fork's segment in one snapshot. */
    private record FileRef(InodeId ino, long size) {
    }

    /** A relation fork's counts, before it is named. */
    private record Counted(String fork, PgDiffFiles.Segment first, String only, long differ, long pagesA, long pagesB) {
    }

    /** A relation as a side's catalog names it. */
    private record RelName(String database, String relation, String kind) {
    }

    private final Engine engine;
    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgProcesses processes;
    private final PgTools tools;
    private final PgOptions options;
    private final PgBranches branches;
    private final PgServers servers;

    PgDiffs(Engine engine, PgRegistry registry, PgVolumes volumes, PgProcesses processes, PgTools tools,
            PgOptions options, PgBranches branches, PgServers servers) {
        this.engine = engine;
        this.registry = registry;
        this.volumes = volumes;
        this.processes = processes;
        this.tools = tools;
        this.options = options;
        this.branches = branches;
        this.servers = servers;
    }

    PgApi.Diff diff(PgApi.DiffRequest r) {
        long t0 = System.nanoTime();
        if (r.a() == null || r.b() == null || r.a().isBlank() || r.b().isBlank()) {
            throw new ClonefsException.InvalidArgument("a diff needs two servers or snapshots, A and B");
        }
        if (!r.schema() && !r.data()) {
            throw new ClonefsException.InvalidArgument("say what to compare: --schema, --data or both");
        }
        String database = r.database() == null || r.database().isBlank() ? "postgres" : r.database();
        if (r.data() && engine.blockSize() != PgDiffFiles.PAGE) {
            throw new ClonefsException.InvalidArgument("diff --data needs a pool of 8 KiB blocks (one PostgreSQL page "
                    + "each); this pool's blocks are " + engine.blockSize() + " bytes");
        }
        Side a = side(r.a());
        Side b = side(r.b());
        String rootA = lineageRoot(a.volume);
        String rootB = lineageRoot(b.volume);
        if (!rootA.equals(rootB)) {
            throw new ClonefsException.InvalidArgument("'" + r.a() + "' and '" + r.b() + "' are not of one lineage ('"
                    + r.a() + "' descends from volume '" + rootA + "', '" + r.b() + "' from '" + rootB
                    + "'); diff compares a server with its branches and snapshots");
        }
        RuntimeException failure = null;
        try {
            long[] ms = new long[7]; // the steps of PgApi.DiffSteps
            long t = System.nanoTime();
            both(() -> {
                snapshot(a);
                return a;
            }, () -> {
                snapshot(b);
                return b;
            });
            ms[0] = PgProcesses.millisSince(t);
            t = System.nanoTime();
            catalogPort(a);
            catalogPort(b);
            ms[1] = PgProcesses.millisSince(t);
            t = System.nanoTime();
            String schema = r.schema() ? schemaDiff(a, b, database) : null;
            ms[6] = PgProcesses.millisSince(t);
            List<PgApi.DiffRelation> relations = null;
            PgApi.DiffTotal total = null;
            long[] counters = new long[2];
            if (r.data()) {
                List<PgApi.DiffRelation> all = dataDiff(a, b, r.forks(), counters, ms);
                relations = PgDiffFiles.report(all);
                total = PgDiffFiles.total(all);
            }
            long millis = PgProcesses.millisSince(t0);
            PgApi.DiffSteps steps = new PgApi.DiffSteps(ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6]);
            LOG.info("diff {} {}: {} in {} ms ({})", r.a(), r.b(),
                    total == null ? "schema" : total.pagesDiffer() + " pages differ", millis, steps);
            return new PgApi.Diff(r.a(), r.b(), a.snapshot, b.snapshot, schema, relations, total, counters[0], counters[1],
                    millis, steps);
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        } finally {
            for (Side s : List.of(a, b)) {
                if (s.throwaway != null) {
                    try {
                        servers.destroy(s.throwaway);
                    } catch (RuntimeException e) {
                        LOG.warn("cannot destroy the throwaway branch {}: {}", s.throwaway, e.getMessage());
                        if (failure != null) {
                            failure.addSuppressed(e);
                        }
                    }
                }
            }
            for (Side s : List.of(a, b)) {
                if (s.snapshotTaken) {
                    volumes.destroyQuietly(s.snapshot, failure);
                }
            }
        }
    }

    // ---- sides -----------------------------------------------------------------------------------

    private Side side(String name) {
        if (SnapshotName.looksLikeSnapshot(name)) {
            SnapshotName sn = Names.splitSnapshot(name);
            try {
                engine.snapshotInfo(name);
            } catch (ClonefsException.NotFound e) {
                throw new ClonefsException.NotFound("unknown snapshot '" + name + "'");
            }
            PgRecord rec = registry.find(sn.volume());
            String dir = rec != null ? rec.dataDir() : detectDataDir(engine.snapshotFs(name), name);
            return new Side(name, sn.volume(), rec, dir, name);
        }
        Names.checkDataset("volume", name);
        PgRecord rec = registry.find(name);
        if (rec == null && !volumes.exists(name)) {
            throw new ClonefsException.NotFound("unknown server or snapshot '" + name
                    + "': no PostgreSQL server, volume or snapshot of that name");
        }
        if (rec != null) {
            volumes.requireVolume(rec);
        }
        return new Side(name, name, rec, rec != null ? rec.dataDir() : volumes.detectDataDir(name), null);
    }

    private static String detectDataDir(VolumeFs fs, String name) {
        for (String dir : List.of("data", "")) {
            try {
                fs.resolve(dir.isEmpty() ? "PG_VERSION" : dir + "/PG_VERSION");
                return dir;
            } catch (ClonefsException.NotFound e) {
                // try the next place
            }
        }
        throw new PgException.NotPostgres("snapshot '" + name + "' holds no PostgreSQL data directory");
    }

    /** The volume a volume's chain of origins starts from. */
    private String lineageRoot(String volume) {
        String v = volume;
        for (int i = 0; i < 10_000; i++) {
            String origin = engine.volumeInfo(v).origin();
            if (origin == null || origin.isEmpty()) {
                return v;
            }
            v = SnapshotName.parse(origin).volume();
        }
        throw new IllegalStateException("origin chain of " + volume + " does not end");
    }

    private boolean running(Side s) {
        return s.server != null && processes.running(s.server);
    }

    /** CHECKPOINT (if it runs) and a snapshot of a server's volume; nothing for a snapshot. */
    private void snapshot(Side s) {
        if (s.snapshot != null) {
            return;
        }
        ReentrantLock lock = registry.nameLock(s.volume);
        lock.lock();
        try {
            if (running(s)) {
                try {
                    Postgres.query(s.server.port(), "CHECKPOINT");
                } catch (SQLException e) {
                    throw new PgException.ToolFailed("CHECKPOINT on '" + s.name + "' failed: " + e.getMessage());
                }
            }
            s.snapshot = volumes.takeSnapshot(s.volume, SNAPSHOT_PREFIX);
            s.snapshotTaken = true;
        } finally {
            lock.unlock();
        }
    }

    /** The port of a server that shows this side's catalog: its own if it runs, else a throwaway branch's. */
    private void catalogPort(Side s) {
        if (s.snapshot.equals(s.name) || !running(s)) {
            SnapshotInfo info = engine.snapshotInfo(s.snapshot);
            String name = SNAPSHOT_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
            branches.branch(new BranchSpec(s.volume, name, null, null, false, false, info.createdAt(), Duration.ZERO, null));
            s.throwaway = name;
            PgRecord rec = registry.require(name);
            if (!rec.snapshot().equals(s.snapshot)) {
                throw new IllegalStateException("throwaway branch of " + s.snapshot + " came from " + rec.snapshot());
            }
            s.port = rec.port();
        } else {
            s.port = s.server.port();
        }
    }

    // ---- schema ----------------------------------------------------------------------------------

    private String schemaDiff(Side a, Side b, String database) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("clonefs-diff");
            Path fa = dir.resolve("a.sql");
            Path fb = dir.resolve("b.sql");
            Files.writeString(fa, PgDiffFiles.normaliseSchema(dump(a, database)));
            Files.writeString(fb, PgDiffFiles.normaliseSchema(dump(b, database)));
            Command.Result res = Command.of("diff", "-u", "--label", a.name, "--label", b.name, fa.toString(), fb.toString())
                    .timeout(Duration.ofMinutes(5)).run();
            if (res.exit() > 1) {
                throw new PgException.ToolFailed("diff of the schemas failed: " + res.describe());
            }
            return res.out();
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot write the schemas to compare: " + e.getMessage(), e);
        } finally {
            if (dir != null) {
                for (String f : List.of("a.sql", "b.sql", "")) {
                    PgVolumes.deleteQuietly(f.isEmpty() ? dir : dir.resolve(f));
                }
            }
        }
    }

    private String dump(Side s, String database) {
        if (!Files.isExecutable(options.binDir().resolve("pg_dump"))) {
            throw new PgException.Setup("no pg_dump in " + options.binDir() + " (install postgresql-15)");
        }
        Command.Result res = tools.run(Duration.ofMinutes(30), "pg_dump", List.of("--schema-only", "--no-owner",
                "-h", "127.0.0.1", "-p", Integer.toString(s.port), "-U", "postgres", "-d", database));
        if (!res.ok()) {
            throw new PgException.ToolFailed("pg_dump of database '" + database + "' on '" + s.name + "' failed: "
                    + String.join(" ", Postgres.tail(res.out(), 2).strip().split("\\s*\n\\s*")));
        }
        return res.out();
    }

    // ---- data ------------------------------------------------------------------------------------

    /** Every relation fork of either side (main forks only unless {@code forks}); counters: blocks read, tree nodes read. */
    private List<PgApi.DiffRelation> dataDiff(Side a, Side b, boolean forks, long[] counters, long[] ms) {
        long t = System.nanoTime();
        Map<String, TreeMap<Integer, FileRef>> filesA = relationFiles(a);
        Map<String, TreeMap<Integer, FileRef>> filesB = relationFiles(b);
        ms[3] = PgProcesses.millisSince(t);
        t = System.nanoTime();
        Set<Long> inos = new HashSet<>();
        for (Map<String, TreeMap<Integer, FileRef>> m : List.of(filesA, filesB)) {
            m.values().forEach(segs -> segs.values().forEach(f -> inos.add(f.ino().value())));
        }
        Map<Long, List<ExtentDiff>> changed = new HashMap<>();
        counters[1] = engine.diffExtents(a.snapshot, b.snapshot, d -> {
            if (inos.contains(d.ino().value())) {
                changed.computeIfAbsent(d.ino().value(), k -> new ArrayList<>()).add(d);
            }
        });
        ms[4] = PgProcesses.millisSince(t);
        t = System.nanoTime();
        Pages pages = new Pages(a.snapshot, b.snapshot);
        TreeSet<String> keys = new TreeSet<>(filesA.keySet());
        keys.addAll(filesB.keySet());
        List<Counted> counted = new ArrayList<>();
        for (String fork : keys) {
            TreeMap<Integer, FileRef> sa = filesA.getOrDefault(fork, new TreeMap<>());
            TreeMap<Integer, FileRef> sb = filesB.getOrDefault(fork, new TreeMap<>());
            PgDiffFiles.Segment first = PgDiffFiles.parse(fork.substring(0, fork.lastIndexOf('/')),
                    fork.substring(fork.lastIndexOf('/') + 1));
            if (!forks && !first.forkName().equals("main")) {
                continue;
            }
            long pa = 0;
            long pb = 0;
            long differ = 0;
            TreeSet<Integer> segs = new TreeSet<>(sa.keySet());
            segs.addAll(sb.keySet());
            for (int seg : segs) {
                FileRef fa = sa.get(seg);
                FileRef fb = sb.get(seg);
                pa += fa == null ? 0 : PgDiffFiles.pages(fa.size());
                pb += fb == null ? 0 : PgDiffFiles.pages(fb.size());
                differ += pages.differ(fa, fb, changed);
            }
            counted.add(new Counted(fork, first, sa.isEmpty() ? "b" : sb.isEmpty() ? "a" : null, differ, pa, pb));
        }
        counters[0] = pages.blocksRead;
        ms[5] = PgProcesses.millisSince(t);

        // names, only for the directories (databases) where something differs; both sides at once
        t = System.nanoTime();
        Set<String> dirs = new HashSet<>();
        for (Counted c : counted) {
            if (c.differ > 0) {
                dirs.add(c.first.relfile().substring(0, c.first.relfile().lastIndexOf('/')));
            }
        }
        List<Map<String, RelName>> names = both(() -> catalog(a, dirs), () -> catalog(b, dirs));
        Map<String, RelName> namesA = names.get(0);
        Map<String, RelName> namesB = names.get(1);
        ms[2] = PgProcesses.millisSince(t);
        List<PgApi.DiffRelation> out = new ArrayList<>();
        for (Counted c : counted) {
            String fork = c.fork;
            PgDiffFiles.Segment first = c.first;
            String only = c.only;
            long differ = c.differ;
            long pa = c.pagesA;
            long pb = c.pagesB;
            RelName na = namesA.get(first.relfile());
            RelName nb = namesB.get(first.relfile());
            RelName n = "a".equals(only) ? na : nb != null ? nb : na;
            String relation = n == null ? fork : n.relation();
            if (na != null && nb != null && !na.relation().equals(nb.relation())) {
                relation = na.relation() + " (a) / " + nb.relation() + " (b)";
            }
            String dbName = n != null ? n.database() : "";
            out.add(new PgApi.DiffRelation(dbName, relation, n == null ? "file" : n.kind(), first.forkName(), fork, only,
                    differ, pa, pb));
        }
        return out;
    }

    /** Compares pages of two files, reading only blocks whose ids differ. */
    private final class Pages {
        final String snapA;
        final String snapB;
        final ByteBuffer bufA = ByteBuffer.allocate(PgDiffFiles.PAGE);
        final ByteBuffer bufB = ByteBuffer.allocate(PgDiffFiles.PAGE);
        long blocksRead;

        Pages(String snapA, String snapB) {
            this.snapA = snapA;
            this.snapB = snapB;
        }

        /** Pages of one segment that differ or exist on one side only. */
        long differ(FileRef fa, FileRef fb, Map<Long, List<ExtentDiff>> changed) {
            if (fa == null || fb == null) {
                return PgDiffFiles.pages((fa == null ? fb : fa).size());
            }
            long na = PgDiffFiles.pages(fa.size());
            long nb = PgDiffFiles.pages(fb.size());
            long common = Math.min(na, nb);
            long differ = Math.max(na, nb) - common;
            if (fa.ino().equals(fb.ino())) {
                for (ExtentDiff d : changed.getOrDefault(fa.ino().value(), List.of())) {
                    if (d.index() < common && bytesDiffer(d.blockA(), d.blockB())) {
                        differ++;
                    }
                }
            } else {
                long[] ba = engine.fileBlocks(snapA, fa.ino());
                long[] bb = engine.fileBlocks(snapB, fb.ino());
                for (int i = 0; i < common; i++) {
                    long x = i < ba.length ? ba[i] : -1;
                    long y = i < bb.length ? bb[i] : -1;
                    if (x != y && bytesDiffer(x, y)) {
                        differ++;
                    }
                }
            }
            return differ;
        }

        private boolean bytesDiffer(long x, long y) {
            read(x, bufA);
            read(y, bufB);
            return !bufA.equals(bufB);
        }

        private void read(long block, ByteBuffer buf) {
            buf.clear();
            if (block < 0) {
                buf.put(new byte[PgDiffFiles.PAGE]); // a hole reads as zeros
            } else {
                engine.readBlock(block, buf);
                blocksRead++;
            }
            buf.flip();
        }
    }

    /** Relation fork path to its segments (number to file), from a snapshot's data directory. */
    private Map<String, TreeMap<Integer, FileRef>> relationFiles(Side s) {
        VolumeFs fs = engine.snapshotFs(s.snapshot);
        String prefix = s.dataDir.isEmpty() ? "" : s.dataDir + "/";
        Map<String, TreeMap<Integer, FileRef>> out = new LinkedHashMap<>();
        List<String> dirs = new ArrayList<>(List.of("global"));
        for (DirEntry d : list(fs, prefix + "base")) {
            if (d.type() == FileType.DIRECTORY && d.name().matches("[0-9]+")) {
                dirs.add("base/" + d.name());
            }
        }
        for (String dir : dirs) {
            for (DirEntry e : list(fs, prefix + dir)) {
                PgDiffFiles.Segment seg = e.type() == FileType.REGULAR ? PgDiffFiles.parse(dir, e.name()) : null;
                if (seg != null) {
                    out.computeIfAbsent(seg.fork(), k -> new TreeMap<>())
                            .put(seg.segment(), new FileRef(e.ino(), fs.getattr(e.ino()).size()));
                }
            }
        }
        return out;
    }

    private static List<DirEntry> list(VolumeFs fs, String path) {
        try {
            return fs.readdir(fs.resolve(path));
        } catch (ClonefsException.NotFound e) {
            return List.of();
        }
    }

    /**
     * {@code base/<db oid>/<filenode>} (or {@code global/<filenode>}) to the relation, from a side's
     * server, for the databases of {@code dirs} ({@code base/<oid>}, {@code global}) only.
     */
    private Map<String, RelName> catalog(Side s, Set<String> dirs) {
        Map<String, RelName> out = new HashMap<>();
        if (dirs.isEmpty()) {
            return out;
        }
        Map<Long, String> dbs = new LinkedHashMap<>();
        String first = null;
        try (Connection c = Postgres.connect(s.port, Duration.ofSeconds(10));
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT oid, datname, datname = current_database() FROM pg_database "
                    + "WHERE datallowconn ORDER BY oid")) {
                while (rs.next()) {
                    dbs.put(rs.getLong(1), rs.getString(2));
                    if (rs.getBoolean(3)) {
                        first = rs.getString(2);
                    }
                }
            }
            // the connected database answers for itself and for the cluster-wide catalogs
            for (Map.Entry<Long, String> db : dbs.entrySet()) {
                if (db.getValue().equals(first) && (dirs.contains("base/" + db.getKey()) || dirs.contains("global"))) {
                    names(st, db.getKey(), db.getValue(), out);
                }
            }
        } catch (SQLException e) {
            throw new PgException.ToolFailed("cannot read the catalog of '" + s.name + "': " + e.getMessage());
        }
        for (Map.Entry<Long, String> db : dbs.entrySet()) {
            if (db.getValue().equals(first) || !dirs.contains("base/" + db.getKey())) {
                continue;
            }
            try (Connection c = Postgres.connect(s.port, db.getValue(), Duration.ofSeconds(10), Duration.ofMinutes(10));
                 Statement st = c.createStatement()) {
                names(st, db.getKey(), db.getValue(), out);
            } catch (SQLException e) {
                throw new PgException.ToolFailed("cannot read the catalog of database '" + db.getValue() + "' on '"
                        + s.name + "': " + e.getMessage());
            }
        }
        return out;
    }

    private static void names(Statement st, long dbOid, String dbName, Map<String, RelName> out) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT pg_relation_filenode(c.oid), c.relisshared, n.nspname, c.relname, "
                + "c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE pg_relation_filenode(c.oid) IS NOT NULL")) {
            while (rs.next()) {
                boolean shared = rs.getBoolean(2);
                String key = (shared ? "global" : "base/" + dbOid) + "/" + rs.getLong(1);
                out.putIfAbsent(key, new RelName(shared ? "" : dbName, rs.getString(3) + "." + rs.getString(4),
                        PgDiffFiles.kind(rs.getString(5))));
            }
        }
    }

    /** Runs both on two threads (the first on a new one) and returns both results; a failure of either is thrown. */
    private static <T> List<T> both(Supplier<T> first, Supplier<T> second) {
        Object[] result = new Object[1];
        RuntimeException[] failure = new RuntimeException[1];
        Thread t = new Thread(() -> {
            try {
                result[0] = first.get();
            } catch (RuntimeException e) {
                failure[0] = e;
            }
        }, "pg-diff");
        t.start();
        T b;
        try {
            b = second.get();
        } catch (RuntimeException e) {
            join(t);
            if (failure[0] != null) {
                e.addSuppressed(failure[0]);
            }
            throw e;
        }
        join(t);
        if (failure[0] != null) {
            throw failure[0];
        }
        @SuppressWarnings("unchecked")
        T a = (T) result[0];
        return java.util.Arrays.asList(a, b);
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgException.ToolFailed("interrupted");
        }
    }
}
