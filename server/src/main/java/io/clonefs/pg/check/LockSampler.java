package io.clonefs.pg.check;

import io.clonefs.api.MigrationApi;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples, on its own session, what the migration's backend locks and whom it blocks, every
 * {@code periodMillis}:
 * <ul>
 *   <li>the relation locks it holds ({@code pg_locks}, granted) in a mode that blocks reads or
 *       writes, on relations that existed before: each becomes an interval from the first sample
 *       that saw it to the last (so a lock held between two samples only is not seen, and an
 *       interval is exact to about one period);</li>
 *   <li>the sessions waiting on a lock ({@code wait_event_type = 'Lock'}) whose blockers
 *       ({@code pg_blocking_pids}) lead to the migration, directly or through other waiting
 *       sessions: each waiting query (pid and {@code query_start}) waited from its start until the
 *       last sample that saw it waiting.</li>
 * </ul>
 * {@link #statement} tells it which statement runs, to name the one that took a lock.
 */
final class LockSampler {
    private static final Logger LOG = LoggerFactory.getLogger(LockSampler.class);

    private record Key(long relation, String mode) {
    }

    private static final class Open {
        final int statement;
        final long first;
        long last;

        Open(int statement, long first) {
            this.statement = statement;
            this.first = first;
            this.last = first;
        }
    }

    private record Wait(long pid, long queryStartMicros) {
    }

    private final Connection c;
    private final long migPid;
    private final long periodMillis;
    private final Map<Key, Open> open = new LinkedHashMap<>();
    private final List<MigrationApi.Lock> closed = new ArrayList<>();
    private final Map<Wait, Long> waits = new HashMap<>(); // wait -> last seen (ms since the migration's start)
    private volatile int statement;
    private volatile boolean running;
    private long startNanos;
    private long samples;
    private Thread thread;

    /**
     * @param before the relations that existed before the migration (oid to relation)
     */
    LockSampler(Connection c, long migPid, Map<Long, ? extends Described> before, long periodMillis) {
        this.c = c;
        this.migPid = migPid;
        this.periodMillis = periodMillis;
        this.before = before;
    }

    private final Map<Long, ? extends Described> before;

    void statement(int index) {
        statement = index;
    }

    void start(long startNanos) {
        this.startNanos = startNanos;
        running = true;
        thread = new Thread(this::loop, "clonefs-check-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    void stop() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Map.Entry<Key, Open> e : open.entrySet()) {
            close(e.getKey(), e.getValue());
        }
        open.clear();
        closed.sort((a, b) -> Long.compare(a.fromMillis(), b.fromMillis()));
    }

    long samples() {
        return samples;
    }

    /** The lock intervals, by when they began (after {@link #stop}). */
    List<MigrationApi.Lock> locks() {
        return closed;
    }

    /** How long each blocked query waited, in ms, sorted (after {@link #stop}). */
    List<Long> waits() {
        List<Long> out = new ArrayList<>();
        long startMicros = startEpochMicros;
        for (Map.Entry<Wait, Long> e : waits.entrySet()) {
            long waitedFrom = Math.max(0, (e.getKey().queryStartMicros() - startMicros) / 1000);
            out.add(Math.max(0, e.getValue() - waitedFrom));
        }
        out.sort(Long::compare);
        return out;
    }

    private long startEpochMicros;

    private long millis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private void loop() {
        startEpochMicros = System.currentTimeMillis() * 1000 - (System.nanoTime() - startNanos) / 1000;
        try (PreparedStatement locks = c.prepareStatement(
                "select relation, mode from pg_locks where pid = ? and granted and locktype = 'relation' "
                        + "and mode in ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock')");
             PreparedStatement waiting = c.prepareStatement(
                "select pid, (extract(epoch from query_start) * 1000000)::bigint, pg_blocking_pids(pid) "
                        + "from pg_stat_activity where wait_event_type = 'Lock' and pid <> ?")) {
            locks.setInt(1, (int) migPid);
            waiting.setInt(1, (int) migPid);
            while (running) {
                long t = millis();
                sample(locks, waiting, t);
                samples++;
                long sleep = periodMillis - (millis() - t);
                if (sleep > 0) {
                    Thread.sleep(sleep);
                }
            }
        } catch (SQLException e) {
            if (running) {
                LOG.warn("check-migration: sampling locks stopped: {}", e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sample(PreparedStatement locks, PreparedStatement waiting, long t) throws SQLException {
        Set<Key> seen = new HashSet<>();
        try (ResultSet rs = locks.executeQuery()) {
            while (rs.next()) {
                long rel = rs.getLong(1);
                if (!before.containsKey(rel)) {
                    continue; // made by the migration: blocks no one
                }
                Key k = new Key(rel, rs.getString(2));
                seen.add(k);
                open.computeIfAbsent(k, x -> new Open(statement, t)).last = t;
            }
        }
        List<Key> gone = new ArrayList<>();
        for (Map.Entry<Key, Open> e : open.entrySet()) {
            if (!seen.contains(e.getKey())) {
                close(e.getKey(), e.getValue());
                gone.add(e.getKey());
            }
        }
        gone.forEach(open::remove);
        // who waits behind the migration, directly or through others that wait
        Map<Long, long[]> blockers = new HashMap<>();
        Map<Long, Long> starts = new HashMap<>();
        try (ResultSet rs = waiting.executeQuery()) {
            while (rs.next()) {
                long pid = rs.getLong(1);
                Array a = rs.getArray(3);
                Integer[] bs = a == null ? new Integer[0] : (Integer[]) a.getArray();
                long[] b = new long[bs.length];
                for (int i = 0; i < bs.length; i++) {
                    b[i] = bs[i];
                }
                blockers.put(pid, b);
                starts.put(pid, rs.getLong(2));
            }
        }
        Set<Long> behind = new HashSet<>();
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Map.Entry<Long, long[]> e : blockers.entrySet()) {
                if (behind.contains(e.getKey())) {
                    continue;
                }
                for (long b : e.getValue()) {
                    if (b == migPid || behind.contains(b)) {
                        behind.add(e.getKey());
                        grew = true;
                        break;
                    }
                }
            }
        }
        for (long pid : behind) {
            waits.put(new Wait(pid, starts.get(pid)), t);
        }
    }

    private void close(Key k, Open o) {
        String[] rel = describe(k.relation());
        closed.add(new MigrationApi.Lock(rel[0], rel[1], k.mode(), blocks(k.mode()), o.statement,
                o.first, o.last - o.first));
    }

    private String[] describe(long oid) {
        Described d = before.get(oid);
        return d == null ? new String[] {Long.toString(oid), "relation"} : new String[] {d.name(), d.kind()};
    }

    /** What a lock mode blocks of others' use of a table: reads and writes, or writes. */
    static String blocks(String mode) {
        return "AccessExclusiveLock".equals(mode) ? "reads and writes" : "writes";
    }

    /** A relation that can name itself (the check's before-map values). */
    interface Described {
        String name();

        String kind();
    }
}
