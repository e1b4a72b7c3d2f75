package io.clonefs.daemon;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;
import io.clonefs.api.HttpJsonClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@link PoolService} served by the daemon that owns the pool, over its control API. */
public final class DaemonClient implements PoolService {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration BUSY_PROBE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(30);

    private final DaemonInfo info;
    private final HttpJsonClient http;

    public DaemonClient(DaemonInfo info, String token) {
        this.info = info;
        this.http = new HttpJsonClient(info.port(), token,
                "the clonefs daemon of " + info.pool() + " (pid " + info.pid() + ", port " + info.port() + ")");
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

    /** The HTTP client of this daemon's control API, for the other typed clients (pg, remotes). */
    public HttpJsonClient http() {
        return http;
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
        String path = "datasets/" + HttpJsonClient.segment(name) + "?recursive=" + recursive;
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
        return http.call(method, path, body, type, timeout);
    }
}
