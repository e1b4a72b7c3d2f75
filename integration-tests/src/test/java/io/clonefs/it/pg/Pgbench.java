package io.clonefs.it.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * pgbench's bookkeeping. Every TPC-B transaction adds the same delta to one account, one teller,
 * one branch and one new history row, so after any number of whole transactions the change of
 * {@code sum(abalance)} (and of the teller and branch sums) equals the change of
 * {@code sum(delta)} over history. {@code pgbench -i} leaves all of them zero; a run without
 * {@code -n} truncates history first, so the sums are taken relative to a {@link Sums} recorded
 * right after {@code -i} and compared after a single run.
 */
public final class Pgbench {
    private static final Pattern PROGRESS = Pattern.compile("progress: ([0-9.]+) s, ([0-9.]+) tps");

    private Pgbench() {
    }

    /** The four sums and the number of history rows. */
    public record Sums(long history, long accounts, long tellers, long branches, long historyRows) {
    }

    public static Sums sums(int port) throws SQLException {
        try (Connection c = PgHarness.connect(port); Statement st = c.createStatement()) {
            return new Sums(one(st, "select coalesce(sum(delta), 0) from pgbench_history"),
                    one(st, "select coalesce(sum(abalance), 0) from pgbench_accounts"),
                    one(st, "select coalesce(sum(tbalance), 0) from pgbench_tellers"),
                    one(st, "select coalesce(sum(bbalance), 0) from pgbench_branches"),
                    one(st, "select count(*) from pgbench_history"));
        }
    }

    /** Asserts the invariant on the server at {@code port}, relative to {@code base}. */
    public static Sums assertInvariant(int port, Sums base, String where) throws SQLException {
        Sums s = sums(port);
        long delta = s.history() - base.history();
        assertEquals(delta, s.accounts() - base.accounts(), where + ": accounts vs history");
        assertEquals(delta, s.tellers() - base.tellers(), where + ": tellers vs history");
        assertEquals(delta, s.branches() - base.branches(), where + ": branches vs history");
        return s;
    }

    /** The per-second throughput pgbench printed with {@code -P 1}: {time, tps} pairs. */
    public static List<double[]> progress(String output) {
        List<double[]> out = new ArrayList<>();
        Matcher m = PROGRESS.matcher(output);
        while (m.find()) {
            out.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))});
        }
        return out;
    }

    private static long one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
