package io.clonefs.cli.pg;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.daemon.Api;
import io.clonefs.daemon.ApiErrors;
import io.clonefs.daemon.ControlException;
import io.clonefs.daemon.DaemonClient;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.daemon.DaemonInfo;
import io.clonefs.base.ClonefsException;
import io.clonefs.pg.PgApi;
import io.clonefs.pg.PgException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code /v1/pg} routes of a pool's daemon. PostgreSQL servers live on the daemon's mount,
 * so every {@code clonefs pg} command needs a running daemon. Errors come back as the same
 * exception types the manager threw ({@link PgException} subtypes, engine exceptions).
 */
public final class PgClient {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration LONG = Duration.ofDays(1);
    private static final Duration SHORT = Duration.ofMinutes(30);

    private final DaemonInfo info;
    private final String token;
    private final URI base;
    private final HttpClient http;

    private PgClient(DaemonInfo info, String token) {
        this.info = info;
        this.token = token;
        this.base = URI.create("http://127.0.0.1:" + info.port() + "/v1/pg/");
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    /** The client of the pool's running daemon; refuses clearly when none runs. */
    public static PgClient connect(Path pool) {
        Optional<DaemonClient> d = DaemonClient.find(pool);
        if (d.isEmpty()) {
            throw new ClonefsException.NotFound("no clonefs daemon runs for pool " + pool
                    + "; PostgreSQL servers run on its mount: start it with 'clonefs mount " + pool + " MOUNTPOINT'");
        }
        return new PgClient(d.get().info(), DaemonFiles.readToken(pool));
    }

    /**
     * Asks a daemon to stop the PostgreSQL servers it runs, so that its mount can be unmounted
     * (they start again on the next mount). Quiet: a daemon without them, or one that does not
     * answer, is left to the unmount's own checks.
     */
    public static void stopServersOf(DaemonInfo daemon) {
        try {
            PgClient c = new PgClient(daemon, DaemonFiles.readToken(Path.of(daemon.pool())));
            c.call("POST", "stop-all", null, type(Object.class), SHORT);
        } catch (RuntimeException e) {
            // not ours to report: the unmount says what is busy
        }
    }

    public List<PgApi.Server> list() {
        return call("GET", "servers", null, JSON.getTypeFactory().constructCollectionType(List.class, PgApi.Server.class), SHORT);
    }

    public PgApi.Server get(String name) {
        return call("GET", "servers/" + enc(name), null, type(PgApi.Server.class), SHORT);
    }

    public PgApi.Server init(String volume, Integer port) {
        return call("POST", "init", new PgApi.InitRequest(volume, port), type(PgApi.Server.class), SHORT);
    }

    public PgApi.Server importFrom(String volume, String from, boolean follow, Integer port) {
        return call("POST", "import", new PgApi.ImportRequest(volume, from, follow, port), type(PgApi.Server.class), LONG);
    }

    public Optional<PgApi.Progress> progress(String volume) {
        try {
            return Optional.of(call("GET", "progress/" + enc(volume), null, type(PgApi.Progress.class), SHORT));
        } catch (ClonefsException.NotFound e) {
            return Optional.empty();
        }
    }

    public PgApi.Branched branch(PgApi.BranchRequest request) {
        return call("POST", "branches", request, type(PgApi.Branched.class), SHORT);
    }

    public PgApi.Server start(String name) {
        return call("POST", "servers/" + enc(name) + "/start", null, type(PgApi.Server.class), SHORT);
    }

    public PgApi.Server stop(String name) {
        return call("POST", "servers/" + enc(name) + "/stop", null, type(PgApi.Server.class), SHORT);
    }

    public PgApi.Branched reset(String name) {
        return call("POST", "servers/" + enc(name) + "/reset", null, type(PgApi.Branched.class), SHORT);
    }

    public PgApi.Server protect(String name, boolean on) {
        return call("POST", "servers/" + enc(name) + (on ? "/protect" : "/unprotect"), null, type(PgApi.Server.class), SHORT);
    }

    public PgApi.Destroyed destroy(String name) {
        return call("DELETE", "servers/" + enc(name), null, type(PgApi.Destroyed.class), SHORT);
    }

    public List<PgApi.Schedule> schedules() {
        return call("GET", "schedules", null, JSON.getTypeFactory().constructCollectionType(List.class, PgApi.Schedule.class), SHORT);
    }

    public PgApi.Schedule schedule(String source, String every, int keep) {
        return call("POST", "schedules", new PgApi.ScheduleRequest(source, every, keep), type(PgApi.Schedule.class), SHORT);
    }

    public void unschedule(String source) {
        call("DELETE", "schedules/" + enc(source), null, type(Object.class), SHORT);
    }

    private static JavaType type(Class<?> c) {
        return JSON.getTypeFactory().constructType(c);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private <T> T call(String method, String path, Object body, JavaType type, Duration timeout) {
        HttpResponse<byte[]> resp;
        try {
            HttpRequest.BodyPublisher pub = body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
            HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .method(method, pub).build();
            resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new ControlException("unreachable", "the clonefs daemon of " + info.pool() + " (pid " + info.pid()
                    + ", port " + info.port() + ") does not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlException("interrupted", "interrupted while waiting for the daemon", e);
        }
        if (resp.statusCode() / 100 != 2) {
            Api.Error err = null;
            try {
                err = JSON.readValue(resp.body(), Api.Error.class);
            } catch (IOException ignored) {
                // not our JSON: the status says enough
            }
            if (err != null && err.code() != null) {
                PgException pe = PgException.fromCode(err.code(), err.message());
                if (pe != null) {
                    throw pe;
                }
            }
            throw ApiErrors.toException(resp.statusCode(), err);
        }
        try {
            return JSON.readValue(resp.body(), type);
        } catch (IOException e) {
            throw new ControlException("bad_reply", "unexpected reply from the daemon: " + e.getMessage(), e);
        }
    }
}
