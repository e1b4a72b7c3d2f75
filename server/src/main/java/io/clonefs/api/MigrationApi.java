package io.clonefs.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The bodies of {@code POST /v1/pg/check-migration}: what to check, and the report. Shared by the
 * daemon and its clients; the report renders itself as text or Markdown ({@code MigrationReports}
 * in the CLI).
 */
public final class MigrationApi {
    private MigrationApi() {
    }

    /**
     * A migration to check on a branch of {@code source}.
     *
     * @param source        the server to branch (never touched but for the branch's CHECKPOINT)
     * @param migration     the SQL of the migration, run statement by statement in one session
     * @param migrationName how the migration is named in the report and errors (its file name)
     * @param workload      a pgbench script run on the branch while the migration runs, or null
     * @param workloadName  its file name
     * @param clients       pgbench clients of the workload (default 4)
     * @param warmup        how long the workload runs before the migration starts (default 5s)
     * @param database      the database to run in (default postgres)
     * @param name          the branch's name (default SOURCE-check-TIME)
     * @param keep          keep the branch afterwards (default: destroyed)
     * @param maxLock       longest lock that blocks reads or writes of a table (default 10s)
     * @param maxBlocked    longest wait of a workload query behind the migration (default 1s)
     * @param maxDuration   longest migration; it is cancelled there (default 1h)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CheckRequest(String source, String migration, String migrationName, String workload,
                               String workloadName, Integer clients, String warmup, String database, String name,
                               Boolean keep, String maxLock, String maxBlocked, String maxDuration) {
    }

    /** One statement of the migration: where it starts, its text (shortened), how long it ran, what it said. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Statement(int index, int line, String sql, long startMillis, long millis, Error error,
                            List<String> warnings) {
    }

    /** The server's error for a statement. */
    public record Error(String sqlState, String message) {
    }

    /**
     * A lock the migration's session held on an existing table or index that blocks others' reads
     * or writes of it, seen from {@code fromMillis} (since the migration's start) for {@code millis}
     * (sampled: ± the sampling period), taken during statement {@code statement}.
     */
    public record Lock(String relation, String kind, String mode, String blocks, int statement, long fromMillis,
                       long millis) {
    }

    /** What the workload saw. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Workload(String script, int clients, long warmupMillis, int queriesBlocked, Long blockedP50Millis,
                           Long blockedP99Millis, Long blockedMaxMillis, Double latencyBeforeMs, Double latencyDuringMs,
                           Double tpsBefore, Double tpsDuring, List<String> errors) {
    }

    /** A table or index whose size changed, or whose file was rewritten ({@code rewritten}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Relation(String name, String kind, Long bytesBefore, Long bytesAfter, boolean rewritten) {
    }

    /**
     * The report.
     *
     * @param verdict    {@code pass} or {@code fail} (a threshold exceeded, or a statement failed)
     * @param violations why it fails, one line each
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Report(String source, String branch, boolean kept, String database, String migration, String verdict,
                         List<String> violations, long totalMillis, int statementsRun, int statementsTotal,
                         List<Statement> statements, Statement failed, List<Lock> locks, Workload workload,
                         List<Relation> relations, long walBytes, List<String> log, long maxLockMillis,
                         long maxBlockedMillis, long maxDurationMillis, long sampleMillis, long samples) {
    }
}
