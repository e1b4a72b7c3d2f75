package io.clonefs.pg;

import io.clonefs.api.ControlException;
import io.clonefs.api.PgApi;
import io.clonefs.base.ByteSizes;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.engine.Names;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The control API's routes under {@code /v1/pg/}, served by the daemon's control server over its
 * {@link PgManager}. Errors are thrown (as {@link PgException} or engine exceptions) for the
 * server's one error mapping to answer.
 *
 * <table>
 *   <caption>Routes (paths below {@code /v1/pg/})</caption>
 *   <tr><th>request</th><th>body</th><th>reply</th></tr>
 *   <tr><td>GET servers</td><td></td><td>[{@link PgApi.Server}]</td></tr>
 *   <tr><td>GET servers/NAME</td><td></td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST init</td><td>{@link PgApi.InitRequest}</td><td>201 {@link PgApi.Server}</td></tr>
 *   <tr><td>POST import</td><td>{@link PgApi.ImportRequest}</td><td>201 {@link PgApi.Server} (when done)</td></tr>
 *   <tr><td>GET progress/NAME</td><td></td><td>{@link PgApi.Progress} of a running or finished import</td></tr>
 *   <tr><td>POST branches</td><td>{@link PgApi.BranchRequest}</td><td>201 {@link PgApi.Branched}</td></tr>
 *   <tr><td>POST diff</td><td>{@link PgApi.DiffRequest}</td><td>{@link PgApi.Diff}</td></tr>
 *   <tr><td>GET, DELETE servers/NAME/history</td><td></td><td>{@link PgApi.History}</td></tr>
 *   <tr><td>POST servers/NAME/history</td><td>{@link PgApi.HistoryRequest}</td><td>{@link PgApi.History}</td></tr>
 *   <tr><td>POST servers/NAME/start</td><td></td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/stop</td><td></td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/reset</td><td>{@link PgApi.ResetRequest} (optional)</td><td>{@link PgApi.Branched}</td></tr>
 *   <tr><td>POST servers/NAME/protect</td><td></td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/unprotect</td><td></td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/limits</td><td>{@link PgApi.LimitsRequest}</td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/ttl</td><td>{@link PgApi.TtlRequest}</td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/suspend</td><td></td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>POST servers/NAME/suspend-after</td><td>{@link PgApi.SuspendAfterRequest}</td><td>{@link PgApi.Server}</td></tr>
 *   <tr><td>DELETE servers/NAME</td><td></td><td>{@link PgApi.Destroyed}</td></tr>
 *   <tr><td>POST stop-all</td><td></td><td>[names stopped]; they restart on the next mount</td></tr>
 *   <tr><td>GET schedules</td><td></td><td>[{@link PgApi.Schedule}]</td></tr>
 *   <tr><td>POST schedules</td><td>{@link PgApi.ScheduleRequest}</td><td>201 {@link PgApi.Schedule}</td></tr>
 *   <tr><td>DELETE schedules/NAME</td><td></td><td>{@link PgApi.Schedule}-less {@code {"ok":true}}</td></tr>
 * </table>
 */
public final class PgRoutes {
    /** HTTP status and body of an answer. */
    public record Reply(int status, Object body) {
    }

    /** Reads the request body as a JSON value of a type (the control server's parser). */
    public interface Body {
        <T> T read(Class<T> type);

        /** As {@link #read}, or null when the request has no body (only blanks). */
        default <T> T readOptional(Class<T> type) {
            return read(type);
        }
    }

    private final PgManager pg;
    private final RemoteSnapshots remotes;

    public PgRoutes(PgManager pg) {
        this(pg, RemoteSnapshots.NONE);
    }

    /** @param remotes imports the snapshot of a branch whose source is {@code REMOTE:VOLUME@SNAP} */
    public PgRoutes(PgManager pg, RemoteSnapshots remotes) {
        this.pg = pg;
        this.remotes = remotes;
    }

    public PgManager manager() {
        return pg;
    }

    /**
     * @param path the decoded path below {@code /v1/pg/}, e.g. {@code servers/b1/reset}
     * @throws ControlException {@code no_such_endpoint} or {@code method_not_allowed} for an unknown path or method
     */
    public Reply route(String method, String path, Body body) {
        String[] p = path.split("/", -1);
        switch (p[0]) {
            case "servers":
                if (p.length == 1) {
                    require(method, "GET", path);
                    return ok(pg.list());
                }
                String name = p[1];
                if (p.length == 2) {
                    if (method.equals("DELETE")) {
                        return ok(pg.destroy(name));
                    }
                    require(method, "GET", path);
                    return ok(pg.get(name));
                }
                if (p.length == 3 && p[2].equals("history")) {
                    switch (method) {
                        case "GET":
                            return ok(pg.historyStatus(name));
                        case "DELETE":
                            return ok(pg.historyOff(name));
                        default:
                            require(method, "POST", path);
                            PgApi.HistoryRequest h = body.read(PgApi.HistoryRequest.class);
                            if (h.keep() == null || h.keep().isBlank()) {
                                throw new ClonefsException.InvalidArgument("history needs its window (keep), e.g. 7d");
                            }
                            return ok(pg.history(name, PgDurations.parse(h.keep()),
                                    h.every() == null || h.every().isBlank() ? null : PgDurations.parse(h.every()),
                                    h.everyWal() == null || h.everyWal().isBlank() ? null : ByteSizes.parse(h.everyWal()),
                                    Boolean.TRUE.equals(h.restart())));
                    }
                }
                if (p.length == 3) {
                    require(method, "POST", path);
                    return switch (p[2]) {
                        case "start" -> ok(pg.start(name));
                        case "stop" -> ok(pg.stop(name));
                        case "reset" -> ok(reset(name, body.readOptional(PgApi.ResetRequest.class)));
                        case "protect" -> ok(pg.protect(name, true));
                        case "unprotect" -> ok(pg.protect(name, false));
                        case "limits" -> ok(pg.limits(name, body.read(PgApi.LimitsRequest.class)));
                        case "ttl" -> ok(pg.ttl(name, ttlOrNone(body.read(PgApi.TtlRequest.class).ttl())));
                        case "suspend" -> ok(pg.suspend(name));
                        case "suspend-after" -> ok(pg.suspendAfter(name,
                                idleOrDefault(body.read(PgApi.SuspendAfterRequest.class).after())));
                        default -> throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: /v1/pg/" + path);
                    };
                }
                break;
            case "stop-all":
                if (p.length == 1) {
                    require(method, "POST", path);
                    return ok(pg.stopAll());
                }
                break;
            case "init":
                if (p.length == 1) {
                    require(method, "POST", path);
                    PgApi.InitRequest r = body.read(PgApi.InitRequest.class);
                    Duration idle = idleOrNull(r.suspendAfter()); // checked before anything is made
                    PgApi.Server s = pg.init(r.volume(), r.port());
                    return new Reply(201, idle == null ? s : pg.suspendAfter(s.name(), idle));
                }
                break;
            case "import":
                if (p.length == 1) {
                    require(method, "POST", path);
                    PgApi.ImportRequest r = body.read(PgApi.ImportRequest.class);
                    Duration idle = idleOrNull(r.suspendAfter()); // checked before anything is made
                    PgApi.Server s = pg.importFrom(r.volume(), r.from(), r.follow(), r.port(), null);
                    return new Reply(201, idle == null ? s : pg.suspendAfter(s.name(), idle));
                }
                break;
            case "progress":
                if (p.length == 2) {
                    require(method, "GET", path);
                    return ok(pg.progress(p[1]).orElseThrow(() ->
                            new ClonefsException.NotFound("no import into '" + p[1] + "' since the daemon started")));
                }
                break;
            case "branches":
                if (p.length == 1) {
                    require(method, "POST", path);
                    return new Reply(201, pg.branch(spec(importRemoteSource(body.read(PgApi.BranchRequest.class)))));
                }
                break;
            case "diff":
                if (p.length == 1) {
                    require(method, "POST", path);
                    return ok(pg.diff(body.read(PgApi.DiffRequest.class)));
                }
                break;
            case "schedules":
                if (p.length == 1 && method.equals("GET")) {
                    return ok(pg.schedules());
                }
                if (p.length == 1) {
                    require(method, "POST", path);
                    PgApi.ScheduleRequest r = body.read(PgApi.ScheduleRequest.class);
                    return new Reply(201, pg.schedule(r.source(), PgDurations.parse(r.every()), r.keep()));
                }
                if (p.length == 2) {
                    require(method, "DELETE", path);
                    pg.unschedule(p[1]);
                    return ok(Map.of("ok", true));
                }
                break;
            default:
                break;
        }
        throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: /v1/pg/" + path);
    }

    /**
     * A request whose source is a snapshot pushed to a remote, {@code REMOTE:VOLUME@SNAP}: the
     * snapshot is imported first (no data copied), then the request names the local volume it is
     * in, at that snapshot (the volume's newest). Any other request is returned as it is.
     */
    PgApi.BranchRequest importRemoteSource(PgApi.BranchRequest r) {
        String source = r.source();
        int colon = source == null ? -1 : source.indexOf(':');
        if (colon < 0) {
            return r;
        }
        if (r.at() != null && !r.at().isBlank() || r.atLsn() != null && !r.atLsn().isBlank()) {
            throw new ClonefsException.InvalidArgument("a moment ('at', 'atLsn') applies to local sources, not to " + source);
        }
        Names.splitSnapshot(source.substring(colon + 1));
        if (r.name() != null) {
            Names.checkDataset("volume", r.name());
        }
        String volume = remotes.importVolume(source.substring(0, colon), source.substring(colon + 1));
        return new PgApi.BranchRequest(volume, r.name(), r.port(), r.ttl(), r.checkpoint(), r.protect(),
                Instant.now().toString(), r.suspendAfter(), r.limits());
    }

    private PgApi.Branched reset(String name, PgApi.ResetRequest r) {
        Instant at = r == null || r.at() == null || r.at().isBlank() ? null : PgDurations.parseMoment(r.at(), Instant.now());
        Long lsn = r == null || r.atLsn() == null || r.atLsn().isBlank() ? null : PgLsn.parse(r.atLsn());
        return pg.reset(name, at, lsn);
    }

    /** A branch request as the manager takes it; {@code ttl}, {@code at} and {@code atLsn} are parsed here. */
    public static PgManager.BranchSpec spec(PgApi.BranchRequest r) {
        if (r.source() == null || r.name() == null) {
            throw new ClonefsException.InvalidArgument("a branch needs a source and a name");
        }
        Names.checkDataset("volume", r.source());
        Names.checkDataset("volume", r.name());
        Duration ttl = r.ttl() == null || r.ttl().isBlank() ? null : PgDurations.parse(r.ttl());
        Instant at = r.at() == null || r.at().isBlank() ? null : PgDurations.parseMoment(r.at(), Instant.now());
        Long lsn = r.atLsn() == null || r.atLsn().isBlank() ? null : PgLsn.parse(r.atLsn());
        Duration idle = r.suspendAfter() == null || r.suspendAfter().isBlank() ? null : PgDurations.parseIdle(r.suspendAfter());
        return new PgManager.BranchSpec(r.source(), r.name(), r.port(), ttl,
                r.checkpoint() == null || r.checkpoint(), r.protect(), at, idle, // CHECKPOINT unless told not to
                PgServerLimits.ofRequest(r.limits()), lsn);
    }

    /** A time to live ({@link PgDurations#parse}), or null for {@code none}. */
    public static Duration ttlOrNone(String text) {
        if (text == null || text.isBlank()) {
            throw new ClonefsException.InvalidArgument("a time to live is needed: e.g. 2h, 7d, or none");
        }
        return text.strip().equalsIgnoreCase("none") ? null : PgDurations.parse(text);
    }

    private static Duration idleOrNull(String text) {
        return text == null || text.isBlank() ? null : PgDurations.parseIdle(text);
    }

    /** An idle time ({@link PgDurations#parseIdle}), or null for {@code default}. */
    public static Duration idleOrDefault(String text) {
        if (text == null || text.isBlank()) {
            throw new ClonefsException.InvalidArgument("an idle time is needed: e.g. 10m, 0 for never, or default");
        }
        return text.strip().equalsIgnoreCase("default") ? null : PgDurations.parseIdle(text);
    }

    private static Reply ok(Object body) {
        return new Reply(200, body);
    }

    private static void require(String method, String want, String path) {
        if (!method.equals(want)) {
            throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED, method + " /v1/pg/" + path + " is not allowed (use " + want + ")");
        }
    }
}
