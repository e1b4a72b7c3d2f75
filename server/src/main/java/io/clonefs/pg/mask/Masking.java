package io.clonefs.pg.mask;

import io.clonefs.api.MaskApi;
import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.engine.Names;
import io.clonefs.pg.PgException;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgOptions;
import io.clonefs.pg.check.SqlScript;
import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pg mask}: a copy of a source whose personal data is replaced by rules, in which the
 * original values are not left anywhere, as a snapshot marked masked.
 *
 * <ol>
 *   <li>The rules are parsed ({@link MaskRules}) and the new server's name checked before
 *       anything is made.</li>
 *   <li>A branch of the source is made as {@code into} (with the CHECKPOINT of any branch; the
 *       source is not otherwise touched), with a time to live of a day until it is marked, so that
 *       a daemon that dies mid-mask leaves nothing for long.</li>
 *   <li>Each rule's table and column are looked up and its expression planned ({@code EXPLAIN
 *       UPDATE}): a missing column or a malformed expression is refused with its line.</li>
 *   <li>Original values of each masked text column are sampled (distinct values of
 *       {@value ValueSearch#MIN_LENGTH} to {@value #MAX_VALUE_BYTES} bytes, up to {@code samples}
 *       per column, from random blocks of large tables).</li>
 *   <li>One {@code UPDATE} per table sets all its rules' columns; then the free SQL runs statement
 *       by statement.</li>
 *   <li>Every table the mask changed (the rules' tables, and those the free SQL updated or deleted
 *       from, by the statistics counters) is rewritten with {@code VACUUM (FULL, ANALYZE)}: old
 *       row versions, old index entries and the free space of old pages go; new statistics are
 *       computed from masked values. {@code pg_statistic} and {@code pg_statistic_ext_data} are
 *       rewritten too.</li>
 *   <li>Sampled values that the masked tables still hold (a rule kept or reused them) are left out
 *       of the search: they are not secret.</li>
 *   <li>The server is stopped cleanly (a shutdown checkpoint: nothing to replay) and
 *       {@code pg_resetwal} removes every WAL segment, including those renamed for reuse, which
 *       hold older records; the server's log and log files inside its data directory are
 *       emptied.</li>
 *   <li>{@code into@masked-TIME} is taken of the stopped server and, with {@code verify}, every
 *       byte of every file in it is searched for the sampled values ({@link ValueSearch}). A hit
 *       fails the mask: the report names the column, file and offset (never the value), and the
 *       server and its snapshot are destroyed. Otherwise the server is marked masked.</li>
 * </ol>
 * Anything that fails destroys what was made; the source is never written.
 */
public final class Masking {
    private static final Logger LOG = LoggerFactory.getLogger(Masking.class);
    static final int DEFAULT_SAMPLES = 1000;
    static final int MAX_SAMPLES = 100_000;
    /** Longer values are likely stored compressed, where a byte search cannot see them. */
    static final int MAX_VALUE_BYTES = 1000;
    static final int MAX_HITS = 20;
    private static final int READ_CHUNK = 1 << 20;
    private static final Pattern WAL_SEGMENT = Pattern.compile("[0-9A-F]{24}(\\.partial)?");
    /** SQLSTATE classes of a mistake in the rules or SQL rather than a failure of the server. */
    private static final Set<String> USER_ERRORS = Set.of("22", "23", "42", "0A", "2B", "P0", "44", "25", "21");

    private final PgManager pg;
    private final PgOptions options;

    public Masking(PgManager pg) {
        this.pg = pg;
        this.options = pg.options();
    }

    /** A rule's column as found in the database. */
    private record Column(MaskRules.Rule rule, long relid, String table, String name, String type, boolean text) {
        String display() {
            return table + "." + name;
        }
    }

    /** The sampled original values, each with the index of its column. */
    private record Samples(List<String> values, List<Integer> columns, List<MaskApi.Unsearched> unsearched,
                           List<String> searched) {
    }

    /**
     * Makes the masked copy.
     *
     * @throws ClonefsException.InvalidArgument for a malformed request or rules file, a rule naming
     *         a table or column that does not exist, and a rule or statement the server refuses
     *         (named with its line); nothing is left behind
     * @throws ClonefsException.AlreadyExists when {@code into} exists
     */
    public MaskApi.Report run(MaskApi.MaskRequest r) {
        if (r == null || r.source() == null || r.source().isBlank()) {
            throw new ClonefsException.InvalidArgument("mask needs a source");
        }
        if (r.into() == null || r.into().isBlank()) {
            throw new ClonefsException.InvalidArgument("mask needs the name of the masked server (into)");
        }
        Names.checkDataset("volume", r.source());
        Names.checkDataset("volume", r.into());
        String rulesName = r.rulesName() == null || r.rulesName().isBlank() ? "rules" : r.rulesName();
        if (r.rules() == null) {
            throw new ClonefsException.InvalidArgument("mask needs rules");
        }
        MaskRules rules = MaskRules.parse(rulesName, r.rules());
        int samples = r.samples() == null ? DEFAULT_SAMPLES : r.samples();
        if (samples < 1 || samples > MAX_SAMPLES) {
            throw new ClonefsException.InvalidArgument("samples must be 1 to " + MAX_SAMPLES + ", not " + samples);
        }
        boolean verify = r.verify() == null || r.verify();
        boolean rewrite = r.rewrite() == null || r.rewrite();
        boolean keepWal = Boolean.TRUE.equals(r.keepWal());
        String database = r.database() == null || r.database().isBlank() ? "postgres" : r.database();
        pg.get(r.source()); // an unknown source: NotFound before anything is made
        boolean exists;
        try {
            pg.get(r.into());
            exists = true;
        } catch (ClonefsException.NotFound e) {
            exists = false;
        }
        if (exists) {
            throw new ClonefsException.AlreadyExists("a PostgreSQL server named '" + r.into() + "' exists; "
                    + "mask into a new name");
        }
        long t0 = System.nanoTime();
        PgApi.Branched b = pg.branch(new PgManager.BranchSpec(r.source(), r.into(), null, Duration.ofDays(1), true,
                false, null, Duration.ZERO, null));
        long branchMs = millisSince(t0);
        LOG.info("mask of {} into {} (port {}): branch made in {} ms", r.source(), r.into(), b.port(), branchMs);
        boolean keep = false;
        try {
            MaskApi.Report report = mask(r, rules, rulesName, database, samples, verify, rewrite, keepWal, b, t0,
                    branchMs);
            keep = "masked".equals(report.verdict());
            return report;
        } finally {
            if (!keep) {
                try {
                    pg.destroy(r.into());
                } catch (RuntimeException e) {
                    LOG.warn("cannot destroy the unfinished masked server {}: {}", r.into(), e.getMessage());
                }
            }
        }
    }

    private MaskApi.Report mask(MaskApi.MaskRequest r, MaskRules rules, String rulesName, String database, int samples,
                                boolean verify, boolean rewrite, boolean keepWal, PgApi.Branched b, long t0,
                                long branchMs) {
        PgApi.Server server = pg.get(r.into());
        Path dataDir = Path.of(server.dataDir());
        long sampleMs;
        long maskMs;
        long rewriteMs;
        List<MaskApi.Table> tables = new ArrayList<>();
        List<String> rewritten = new ArrayList<>();
        Samples sampled;
        Set<String> kept;
        Path logDir;
        Charset charset;
        try (Connection c = Postgres.connect(b.port(), database, Duration.ofSeconds(30), Duration.ZERO)) {
            c.setAutoCommit(true);
            List<Column> columns = resolve(c, rulesName, rules.rules(), database);
            for (Column col : columns) {
                plan(c, rulesName, col);
            }
            charset = charset(Postgres.query(c, "show server_encoding"));
            long t = System.nanoTime();
            sampled = sample(c, columns, samples, charset);
            sampleMs = millisSince(t);

            t = System.nanoTime();
            Map<Long, Long> changesBefore = changes(c);
            Map<Long, List<Column>> byTable = new LinkedHashMap<>();
            for (Column col : columns) {
                byTable.computeIfAbsent(col.relid(), k -> new ArrayList<>()).add(col);
            }
            Map<Long, Long> sizesBefore = new LinkedHashMap<>();
            Map<Long, Long> updated = new LinkedHashMap<>();
            for (Map.Entry<Long, List<Column>> e : byTable.entrySet()) {
                sizesBefore.put(e.getKey(), size(c, e.getKey()));
                updated.put(e.getKey(), update(c, rulesName, e.getValue()));
            }
            try (Statement st = c.createStatement()) {
                for (SqlScript.Statement s : rules.sql()) {
                    try {
                        st.execute(s.sql());
                    } catch (SQLException e) {
                        throw sqlError(rulesName + ":" + s.line(), e);
                    }
                }
            }
            maskMs = millisSince(t);

            t = System.nanoTime();
            Map<Long, String> changed = changedTables(c, changesBefore);
            for (Long relid : byTable.keySet()) {
                changed.putIfAbsent(relid, byTable.get(relid).get(0).table());
            }
            try (Statement st = c.createStatement()) {
                for (Map.Entry<Long, String> e : changed.entrySet()) {
                    if ("0".equals(Postgres.query(c, "select count(*) from pg_class where oid = " + e.getKey()))) {
                        continue; // dropped by the free SQL
                    }
                    st.execute((rewrite ? "VACUUM (FULL, ANALYZE) " : "ANALYZE ") + e.getValue());
                    if (rewrite) {
                        rewritten.add(e.getValue());
                    }
                }
                st.execute("VACUUM FULL pg_catalog.pg_statistic");
                st.execute("VACUUM FULL pg_catalog.pg_statistic_ext_data");
                rewritten.add("pg_catalog.pg_statistic");
                rewritten.add("pg_catalog.pg_statistic_ext_data");
            }
            for (Map.Entry<Long, List<Column>> e : byTable.entrySet()) {
                List<String> names = e.getValue().stream().map(Column::name).toList();
                tables.add(new MaskApi.Table(e.getValue().get(0).table(), names, updated.get(e.getKey()),
                        rewrite, sizesBefore.get(e.getKey()), size(c, e.getKey())));
            }
            kept = keptByRules(c, byTable, sampled);
            rewriteMs = millisSince(t);
            String dir = Postgres.query(c, "show log_directory");
            logDir = dir == null || dir.isBlank() || Path.of(dir).isAbsolute() ? null : dataDir.resolve(dir).normalize();
        } catch (SQLException e) {
            throw new PgException.ToolFailed("PostgreSQL on the masked branch '" + r.into() + "' failed: "
                    + oneLine(e.getMessage()));
        }

        long t = System.nanoTime();
        pg.stop(r.into()); // pg_ctl stop -m fast: a clean shutdown with its checkpoint
        long walRemoved = 0;
        if (!keepWal) {
            walRemoved = walBytes(dataDir.resolve("pg_wal"));
            Command.Result reset = Command.of(options.binDir().resolve("pg_resetwal").toString(), "-D",
                    dataDir.toString()).asUser(options.osUser()).timeout(Duration.ofMinutes(10)).mergeStderr().run();
            if (!reset.ok()) {
                throw new PgException.ToolFailed("pg_resetwal on the masked branch '" + r.into() + "' failed: "
                        + reset.lastLines(3).replace('\n', ' ').strip());
            }
        }
        List<String> emptied = emptyLogs(Path.of(server.log()), dataDir, logDir);
        long stopMs = millisSince(t);

        t = System.nanoTime();
        String snapshot = pg.snapshotMasked(r.into());
        long snapshotMs = millisSince(t);

        MaskApi.Verify result = null;
        long verifyMs = 0;
        if (verify) {
            t = System.nanoTime();
            result = verify(pg.snapshotFiles(snapshot), sampled, kept, charset);
            verifyMs = millisSince(t);
            result = new MaskApi.Verify(result.values(), result.columns(), result.keptByRules(), result.unsearched(),
                    result.files(), result.bytes(), verifyMs, result.hitCount(), result.hits());
        }
        boolean failed = result != null && result.hitCount() > 0;
        if (!failed) {
            pg.markMasked(r.into(), snapshot, verify);
        }
        MaskApi.Timings timings = new MaskApi.Timings(branchMs, sampleMs, maskMs, rewriteMs, stopMs, snapshotMs,
                verifyMs, millisSince(t0));
        LOG.info("mask of {} into {}: {} in {} ms ({} values searched, {} found)", r.source(), r.into(),
                failed ? "FAILED" : snapshot, timings.total(), result == null ? 0 : result.values(),
                result == null ? 0 : result.hitCount());
        return new MaskApi.Report(r.source(), r.into(), database, rulesName, failed ? "failed" : "masked",
                failed ? null : snapshot, failed ? null : server.uri(), tables, rules.sql().size(), rewritten,
                walRemoved, emptied, result, timings);
    }

    // ---- the rules' columns ------------------------------------------------------------------

    private static List<Column> resolve(Connection c, String rulesName, List<MaskRules.Rule> rules, String database)
            throws SQLException {
        List<Column> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        String sql = "select c.oid, format('%I.%I', n.nspname, c.relname), c.relkind, a.attname, "
                + "format_type(a.atttypid, a.atttypmod), t.typcategory, a.attgenerated "
                + "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                + "left join pg_attribute a on a.attrelid = c.oid and a.attname = ? and a.attnum > 0 and not a.attisdropped "
                + "left join pg_type t on t.oid = a.atttypid where c.oid = to_regclass(?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (MaskRules.Rule rule : rules) {
                ps.setString(1, rule.column());
                ps.setString(2, rule.tableSql());
                try (ResultSet rs = ps.executeQuery()) {
                    String where = rulesName + ":" + rule.line() + ": ";
                    if (!rs.next()) {
                        throw new ClonefsException.InvalidArgument(where + "no table "
                                + (rule.schema() == null ? "" : rule.schema() + ".") + rule.table() + " in database "
                                + database);
                    }
                    String kind = rs.getString(3);
                    if (!kind.equals("r") && !kind.equals("p")) {
                        throw new ClonefsException.InvalidArgument(where + rs.getString(2) + " is not a table ("
                                + kindName(kind) + "); mask the table it shows");
                    }
                    if (rs.getString(4) == null) {
                        throw new ClonefsException.InvalidArgument(where + "table " + rs.getString(2)
                                + " has no column " + rule.column());
                    }
                    if (rs.getString(7) != null && !rs.getString(7).isEmpty()) {
                        throw new ClonefsException.InvalidArgument(where + rs.getString(2) + "." + rule.column()
                                + " is a generated column; mask the columns it is computed from");
                    }
                    Column col = new Column(rule, rs.getLong(1), rs.getString(2), rs.getString(4), rs.getString(5),
                            "S".equals(rs.getString(6)));
                    if (!seen.add(col.relid() + "." + col.name())) {
                        throw new ClonefsException.InvalidArgument(where + "column " + col.display()
                                + " already has a rule");
                    }
                    out.add(col);
                }
            }
        }
        return out;
    }

    private static String kindName(String relkind) {
        return switch (relkind) {
            case "v" -> "a view";
            case "m" -> "a materialized view: refresh it in [sql]";
            case "f" -> "a foreign table";
            case "i", "I" -> "an index";
            case "S" -> "a sequence";
            default -> "relkind " + relkind;
        };
    }

    /** Plans the rule's UPDATE, so that a malformed expression is refused with its line before anything runs. */
    private static void plan(Connection c, String rulesName, Column col) {
        try (Statement st = c.createStatement()) {
            st.execute("EXPLAIN UPDATE " + col.table() + " SET " + MaskRules.quote(col.name()) + " = ("
                    + col.rule().expression() + "\n)");
        } catch (SQLException e) {
            throw new ClonefsException.InvalidArgument(rulesName + ":" + col.rule().line() + ": "
                    + col.display() + ": " + oneLine(e.getMessage()));
        }
    }

    private static long update(Connection c, String rulesName, List<Column> cols) {
        StringBuilder sql = new StringBuilder("UPDATE ").append(cols.get(0).table()).append(" SET ");
        for (int i = 0; i < cols.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(MaskRules.quote(cols.get(i).name())).append(" = (")
                    .append(cols.get(i).rule().expression()).append("\n)");
        }
        try (Statement st = c.createStatement()) {
            return st.executeLargeUpdate(sql.toString());
        } catch (SQLException e) {
            throw sqlError(rulesName + ":" + cols.get(0).rule().line() + " (" + cols.get(0).table() + ")", e);
        }
    }

    private static ClonefsException sqlError(String where, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String msg = where + ": " + oneLine(e.getMessage());
        return state.length() >= 2 && USER_ERRORS.contains(state.substring(0, 2))
                ? new ClonefsException.InvalidArgument(msg) : new PgException.ToolFailed(msg);
    }

    // ---- sampling ----------------------------------------------------------------------------

    private static Samples sample(Connection c, List<Column> columns, int perColumn, Charset charset)
            throws SQLException {
        List<String> values = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        List<MaskApi.Unsearched> unsearched = new ArrayList<>();
        List<String> searched = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            Column col = columns.get(i);
            if (!col.text()) {
                unsearched.add(new MaskApi.Unsearched(col.display(), col.type()
                        + ": stored in binary form, which a byte search cannot tell from other data"));
                continue;
            }
            if (charset == null) {
                unsearched.add(new MaskApi.Unsearched(col.display(), "the database's encoding is not one Java reads"));
                continue;
            }
            double rows = Double.parseDouble(Postgres.query(c, "select greatest(reltuples, 0) from pg_class where oid = "
                    + col.relid()));
            double pct = rows > 50.0 * perColumn ? Math.max(0.01, 100.0 * 50 * perColumn / rows) : 100;
            String column = MaskRules.quote(col.name());
            String sql = "select distinct v from (select " + column + "::text as v from " + col.table()
                    + (pct < 100 ? String.format(Locale.ROOT, " tablesample system (%.4f)", pct) : "")
                    + " where " + column + " is not null and octet_length(" + column + "::text) between "
                    + ValueSearch.MIN_LENGTH + " and " + MAX_VALUE_BYTES + " limit " + 20L * perColumn
                    + ") s limit " + perColumn;
            int n = 0;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    String v = rs.getString(1);
                    if (v.getBytes(charset).length >= ValueSearch.MIN_LENGTH) {
                        values.add(v);
                        owners.add(searched.size());
                        n++;
                    }
                }
            }
            if (n == 0) {
                unsearched.add(new MaskApi.Unsearched(col.display(), "no value of " + ValueSearch.MIN_LENGTH + " to "
                        + MAX_VALUE_BYTES + " bytes"));
            } else {
                searched.add(col.display());
            }
        }
        return new Samples(values, owners, unsearched, searched);
    }

    /** Sampled values that a masked table holds after the mask (in any masked column). */
    private static Set<String> keptByRules(Connection c, Map<Long, List<Column>> byTable, Samples s)
            throws SQLException {
        Set<String> kept = new HashSet<>();
        if (s.values().isEmpty()) {
            return kept;
        }
        for (List<Column> cols : byTable.values()) {
            List<Column> text = cols.stream().filter(Column::text).toList();
            if (text.isEmpty()) {
                continue;
            }
            StringBuilder sql = new StringBuilder("select distinct x.v from ").append(text.get(0).table())
                    .append(" t, lateral (values ");
            for (int i = 0; i < text.size(); i++) {
                sql.append(i == 0 ? "" : ", ").append("(t.").append(MaskRules.quote(text.get(i).name())).append("::text)");
            }
            sql.append(") x(v) where x.v = any(?)");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                Array arr = c.createArrayOf("text", s.values().toArray());
                ps.setArray(1, arr);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        kept.add(rs.getString(1));
                    }
                }
            }
        }
        return kept;
    }

    // ---- what the mask changed ---------------------------------------------------------------

    /** Rows updated or deleted so far per table, as the statistics count them. */
    private static Map<Long, Long> changes(Connection c) throws SQLException {
        Map<Long, Long> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select relid, n_tup_upd + n_tup_del from pg_stat_user_tables")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getLong(2));
            }
        }
        return out;
    }

    /** Tables with rows updated or deleted since {@code before}, by name. */
    private static Map<Long, String> changedTables(Connection c, Map<Long, Long> before) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("select pg_stat_force_next_flush()"); // flushed when the session goes idle after it
        }
        Map<Long, String> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select relid, format('%I.%I', schemaname, relname), n_tup_upd + n_tup_del "
                     + "from pg_stat_user_tables order by 2")) {
            while (rs.next()) {
                if (rs.getLong(3) > before.getOrDefault(rs.getLong(1), 0L)) {
                    out.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        return out;
    }

    private static long size(Connection c, long relid) throws SQLException {
        String v = Postgres.query(c, "select pg_total_relation_size(" + relid + ")");
        return v == null ? 0 : Long.parseLong(v);
    }

    // ---- files -------------------------------------------------------------------------------

    private static long walBytes(Path walDir) {
        long total = 0;
        try (DirectoryStream<Path> d = Files.newDirectoryStream(walDir)) {
            for (Path f : d) {
                if (WAL_SEGMENT.matcher(f.getFileName().toString()).matches()) {
                    total += Files.size(f);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", walDir, e.getMessage());
        }
        return total;
    }

    /** Empties the server's log and removes the log files inside its data directory. */
    private static List<String> emptyLogs(Path serverLog, Path dataDir, Path logDir) {
        List<String> out = new ArrayList<>();
        try {
            if (Files.exists(serverLog)) {
                Files.newOutputStream(serverLog, StandardOpenOption.TRUNCATE_EXISTING).close();
                out.add(serverLog.toString());
            }
            if (logDir != null && logDir.startsWith(dataDir) && Files.isDirectory(logDir, LinkOption.NOFOLLOW_LINKS)) {
                try (DirectoryStream<Path> d = Files.newDirectoryStream(logDir)) {
                    for (Path f : d) {
                        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                            Files.delete(f);
                            out.add(dataDir.relativize(f).toString());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot empty the masked server's logs: " + e.getMessage(), e);
        }
        return out;
    }

    // ---- verify ------------------------------------------------------------------------------

    private static MaskApi.Verify verify(Path root, Samples s, Set<String> kept, Charset charset) {
        List<byte[]> values = new ArrayList<>();
        List<Integer> tags = new ArrayList<>();
        Set<String> distinct = new LinkedHashSet<>();
        int keptCount = 0;
        for (int i = 0; i < s.values().size(); i++) {
            String v = s.values().get(i);
            if (kept.contains(v)) {
                keptCount++;
                continue;
            }
            if (distinct.add(s.columns().get(i) + "\u0000" + v)) {
                values.add(v.getBytes(charset));
                tags.add(s.columns().get(i));
            }
        }
        ValueSearch search = new ValueSearch(values, tags);
        ValueSearch.Result res;
        try {
            res = search.search(root, READ_CHUNK, MAX_HITS);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read the masked snapshot's files in " + root + ": "
                    + e.getMessage(), e);
        }
        List<MaskApi.Hit> hits = new ArrayList<>();
        for (ValueSearch.Hit h : res.hits()) {
            hits.add(new MaskApi.Hit(s.searched().get(h.tag()), h.file(), h.offset()));
        }
        return new MaskApi.Verify(values.size(), s.searched(), keptCount, s.unsearched(), res.files(), res.bytes(), 0,
                res.hitCount(), hits);
    }

    private static Charset charset(String serverEncoding) {
        return switch (serverEncoding == null ? "" : serverEncoding.toUpperCase(Locale.ROOT)) {
            case "UTF8", "SQL_ASCII" -> StandardCharsets.UTF_8;
            case "LATIN1" -> StandardCharsets.ISO_8859_1;
            case "WIN1252" -> Charset.forName("windows-1252");
            default -> null;
        };
    }

    private static long millisSince(long t) {
        return (System.nanoTime() - t) / 1_000_000;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\n\\s*", " ");
    }
}
