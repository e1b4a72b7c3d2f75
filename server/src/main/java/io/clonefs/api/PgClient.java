package io.clonefs.api;

import io.clonefs.base.ClonefsException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code /v1/pg} routes of a pool's daemon, typed. Errors come back with the kind the manager
 * raised them with (the engine's {@code ClonefsException} subtypes, or a {@code ClonefsException}
 * of a {@code PG_*} kind).
 */
public final class PgClient {
    private static final Duration LONG = Duration.ofDays(1);
    private static final Duration SHORT = Duration.ofMinutes(30);

    private final HttpJsonClient http;

    public PgClient(HttpJsonClient http) {
        this.http = http;
    }

    /**
     * Asks the daemon to stop the PostgreSQL servers it runs, so that its mount can be unmounted
     * (they start again on the next mount).
     */
    public void stopAll() {
        call("POST", "stop-all", null, Object.class, SHORT);
    }

    /** Runs a migration on a branch of its source and reports what it locked and whom it blocked. */
    public MigrationApi.Report checkMigration(MigrationApi.CheckRequest request) {
        return call("POST", "check-migration", request, MigrationApi.Report.class, LONG);
    }

    /** Makes a masked copy of a source ({@code pg mask}) and reports what it did and what verify found. */
    public MaskApi.Report mask(MaskApi.MaskRequest request) {
        return call("POST", "mask", request, MaskApi.Report.class, LONG);
    }

    public List<PgApi.Server> list() {
        return http.callForList("GET", "pg/servers", null, PgApi.Server.class, SHORT);
    }

    public PgApi.Server get(String name) {
        return call("GET", "servers/" + enc(name), null, PgApi.Server.class, SHORT);
    }

    public PgApi.Server init(String volume, Integer port) {
        return init(volume, port, null);
    }

    /** @param suspendAfter idle time before a suspend ({@code 10m}, {@code 0} never), or null for never */
    public PgApi.Server init(String volume, Integer port, String suspendAfter) {
        return call("POST", "init", new PgApi.InitRequest(volume, port, suspendAfter), PgApi.Server.class, SHORT);
    }

    public PgApi.Server importFrom(String volume, String from, boolean follow, Integer port) {
        return importFrom(volume, from, follow, port, null);
    }

    /** @param suspendAfter idle time before a suspend ({@code 10m}, {@code 0} never), or null for never */
    public PgApi.Server importFrom(String volume, String from, boolean follow, Integer port, String suspendAfter) {
        return call("POST", "import", new PgApi.ImportRequest(volume, from, follow, port, suspendAfter), PgApi.Server.class,
                LONG);
    }

    /** The import's latest progress line; empty when there is none (yet). */
    public Optional<PgApi.Progress> progress(String volume) {
        try {
            return Optional.of(call("GET", "progress/" + enc(volume), null, PgApi.Progress.class, SHORT));
        } catch (ClonefsException.NotFound e) {
            return Optional.empty();
        }
    }

    public PgApi.Branched branch(PgApi.BranchRequest request) {
        return call("POST", "branches", request, PgApi.Branched.class, SHORT);
    }

    public PgApi.Server start(String name) {
        return call("POST", "servers/" + enc(name) + "/start", null, PgApi.Server.class, SHORT);
    }

    public PgApi.Server stop(String name) {
        return call("POST", "servers/" + enc(name) + "/stop", null, PgApi.Server.class, SHORT);
    }

    public PgApi.Branched reset(String name) {
        return reset(name, null);
    }

    /** A reset to a moment of the source's history ({@code request} null: to what the branch was made from). */
    public PgApi.Branched reset(String name, PgApi.ResetRequest request) {
        return call("POST", "servers/" + enc(name) + "/reset", request, PgApi.Branched.class, SHORT);
    }

    public PgApi.Server protect(String name, boolean on) {
        return call("POST", "servers/" + enc(name) + (on ? "/protect" : "/unprotect"), null, PgApi.Server.class, SHORT);
    }

    /** Changes a server's memory limit, CPU weight or settings of its own; what the request leaves out stays. */
    public PgApi.Server limits(String name, PgApi.LimitsRequest change) {
        return call("POST", "servers/" + enc(name) + "/limits", change, PgApi.Server.class, SHORT);
    }

    public PgApi.Server suspend(String name) {
        return call("POST", "servers/" + enc(name) + "/suspend", null, PgApi.Server.class, SHORT);
    }

    /** Turns a source's history on or changes it ({@code pg history NAME --keep 7d}). */
    public PgApi.History history(String name, PgApi.HistoryRequest request) {
        return call("POST", "servers/" + enc(name) + "/history", request, PgApi.History.class, SHORT);
    }

    public PgApi.History historyStatus(String name) {
        return call("GET", "servers/" + enc(name) + "/history", null, PgApi.History.class, SHORT);
    }

    public PgApi.History historyOff(String name) {
        return call("DELETE", "servers/" + enc(name) + "/history", null, PgApi.History.class, SHORT);
    }

    /** {@code after}: a duration such as {@code 10m}, {@code 0} for never, {@code default} for the pool's. */
    public PgApi.Server suspendAfter(String name, String after) {
        return call("POST", "servers/" + enc(name) + "/suspend-after", new PgApi.SuspendAfterRequest(after),
                PgApi.Server.class, SHORT);
    }

    /** {@code ttl}: a duration such as {@code 8h} (from now), or {@code none} for never. */
    public PgApi.Server ttl(String name, String ttl) {
        return call("POST", "servers/" + enc(name) + "/ttl", new PgApi.TtlRequest(ttl), PgApi.Server.class, SHORT);
    }

    public PgApi.Destroyed destroy(String name) {
        return call("DELETE", "servers/" + enc(name), null, PgApi.Destroyed.class, SHORT);
    }

    public List<PgApi.Schedule> schedules() {
        return http.callForList("GET", "pg/schedules", null, PgApi.Schedule.class, SHORT);
    }

    public PgApi.Schedule schedule(String source, String every, int keep) {
        return call("POST", "schedules", new PgApi.ScheduleRequest(source, every, keep), PgApi.Schedule.class, SHORT);
    }

    public void unschedule(String source) {
        call("DELETE", "schedules/" + enc(source), null, Object.class, SHORT);
    }

    /** {@code clonefs pg diff}: schema and/or data differences between two servers or snapshots. */
    public PgApi.Diff diff(PgApi.DiffRequest request) {
        return call("POST", "diff", request, PgApi.Diff.class, LONG);
    }

    private <T> T call(String method, String path, Object body, Class<T> type, Duration timeout) {
        return http.call(method, "pg/" + path, body, type, timeout);
    }

    private static String enc(String s) {
        return HttpJsonClient.segment(s);
    }
}
