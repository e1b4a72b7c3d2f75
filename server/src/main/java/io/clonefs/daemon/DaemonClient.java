package io.clonefs.daemon;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@link PoolService} served by the daemon that owns the pool, over its control API. */
public final class DaemonClient implements PoolService {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration BUSY_PROBE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(30);

    private final DaemonInfo info;
    private final String token;
    private final URI base;
    private final HttpClient http;

    public DaemonClient(DaemonInfo info, String token) {
        this.info = info;
        this.token = token;
        this.base = URI.create("http://127.0.0.1:" + info.port() + "/v1/");
        this.http = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();
    }

    /**
     * The client of the pool's daemon if one is published, alive and answering for this pool; empty
     * when no daemon runs (a stale {@code daemon.json} is ignored).
     */
    public static Optional<DaemonClient> find(Path pool) {
        Optional<DaemonInfo> info = DaemonFiles.readInfo(pool);
        if (info.isEmpty() || !alive(info.get().pid())) {
            return Optional.empty();
        }
        DaemonClient c;
        try {
            c = new DaemonClient(info.get(), DaemonFiles.readToken(pool));
        } catch (ControlException e) {
            return Optional.empty();
        }
        // a live daemon that is slow to answer (a loaded machine, many long requests) is waited for
        return c.answers(PROBE_TIMEOUT) || c.answers(BUSY_PROBE_TIMEOUT) ? Optional.of(c) : Optional.empty();
    }

    public static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    public DaemonInfo info() {
        return info;
    }

    /** True when the daemon answers {@code GET /v1/status} with our token and its pid. */
    public boolean answers() {
        return answers(PROBE_TIMEOUT);
    }

    private boolean answers(Duration timeout) {
        try {
            Api.Status s = call("GET", "status", null, Api.Status.class, timeout);
            return s.pid() == info.pid();
        } catch (RuntimeException e) {
            return false;
        }
    }

    public Api.Status status() {
        return call("GET", "status", null, Api.Status.class, PROBE_TIMEOUT);
    }

    /** Asks the daemon to unmount and stop; returns once it accepted. */
    public void shutdown() {
        call("POST", "shutdown", null, Api.Ok.class, PROBE_TIMEOUT);
    }

    /** {@code GET /v1/events}: the events after {@code since}. */
    public EventLog.Page events(long since, int limit) {
        return call("GET", "events?since=" + since + "&limit=" + limit, null, EventLog.Page.class, PROBE_TIMEOUT);
    }

    @Override
    public Api.Datasets list() {
        return call("GET", "datasets", null, Api.Datasets.class, COMMAND_TIMEOUT);
    }

    @Override
    public Api.Created createVolume(String name) {
        return call("POST", "volumes", new Api.CreateVolume(name), Api.Created.class, COMMAND_TIMEOUT);
    }

    @Override
    public Api.Created snapshot(String volume, String snapshot) {
        return call("POST", "snapshots", new Api.CreateSnapshot(volume, snapshot), Api.Created.class, COMMAND_TIMEOUT);
    }

    @Override
    public Api.Cloned cloneVolume(String source, String name) {
        return call("POST", "clones", new Api.CreateClone(source, name), Api.Cloned.class, COMMAND_TIMEOUT);
    }

    @Override
    public Api.Destroyed destroy(String name, boolean recursive) {
        String path = "datasets/" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20")
                + "?recursive=" + recursive;
        return call("DELETE", path, null, Api.Destroyed.class, COMMAND_TIMEOUT);
    }

    @Override
    public Api.Space space() {
        return call("GET", "space", null, Api.Space.class, COMMAND_TIMEOUT);
    }

    @Override
    public Api.Fsck fsck() {
        return call("POST", "fsck", null, Api.Fsck.class, COMMAND_TIMEOUT);
    }

    @Override
    public void sync() {
        call("POST", "sync", null, Api.Ok.class, COMMAND_TIMEOUT);
    }

    @Override
    public boolean remote() {
        return true;
    }

    @Override
    public void close() {
        // HttpClient needs no closing on Java 17
    }

    private <T> T call(String method, String path, Object body, Class<T> type, Duration timeout) {
        return call(method, path, body, JSON.getTypeFactory().constructType(type), timeout);
    }

    private <T> T call(String method, String path, Object body, JavaType type, Duration timeout) {
        HttpResponse<byte[]> resp;
        try {
            HttpRequest.BodyPublisher pub = body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
            HttpRequest req = HttpRequest.newBuilder(base.resolve(path))
                    .timeout(timeout)
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .method(method, pub)
                    .build();
            resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new ControlException("unreachable", "the clonefs daemon of " + info.pool() + " (pid " + info.pid()
                    + ", port " + info.port() + ") does not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlException("interrupted", "interrupted while waiting for the daemon", e);
        }
        int status = resp.statusCode();
        if (status / 100 != 2) {
            Api.Error err = null;
            try {
                err = JSON.readValue(resp.body(), Api.Error.class);
            } catch (IOException ignored) {
                // not our JSON: keep the status only
            }
            throw ApiErrors.toException(status, err);
        }
        try {
            return JSON.readValue(resp.body(), type);
        } catch (IOException e) {
            throw new ControlException("bad_reply", "unexpected reply from the daemon: " + e.getMessage(), e);
        }
    }
}
