package io.clonefs.daemon;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;
import io.clonefs.api.HttpJsonClient;
import io.clonefs.api.LoopbackHttp;
import io.clonefs.api.Tls;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import java.time.Duration;
import java.util.Optional;

/**
 * {@link PoolService} served by the daemon that owns the pool, over its control API: the pool's
 * own daemon on 127.0.0.1 with {@code POOL/daemon.token}, or, when {@code CLONEFS_URL} is set, the
 * daemon at that URL ({@code https://HOST:PORT} of {@code clonefs mount --listen}) with the token
 * of {@code CLONEFS_TOKEN} or the file {@code CLONEFS_TOKEN_FILE}, trusting the certificates of
 * {@code CLONEFS_CACERT} (the daemon's {@code --tls-cert} or its CA; unset: the JDK's trust store).
 */
public final class DaemonClient implements PoolService {
    public static final String ENV_URL = "CLONEFS_URL";
    public static final String ENV_TOKEN = "CLONEFS_TOKEN";
    public static final String ENV_TOKEN_FILE = "CLONEFS_TOKEN_FILE";
    public static final String ENV_CACERT = "CLONEFS_CACERT";
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

    private DaemonClient(DaemonInfo info, HttpJsonClient http) {
        this.info = info;
        this.http = http;
    }

    /**
     * The daemon at {@code $CLONEFS_URL} when it is set (it must answer: an error otherwise), else
     * {@link #findLocal}.
     */
    public static Optional<DaemonClient> find(Path pool) {
        String url = System.getenv(ENV_URL);
        if (url != null && !url.isBlank()) {
            return Optional.of(remote(url.trim(), System.getenv(ENV_TOKEN), System.getenv(ENV_TOKEN_FILE),
                    System.getenv(ENV_CACERT)));
        }
        return findLocal(pool);
    }

    /**
     * The daemon at {@code url}: {@code https://HOST:PORT} ({@code http://} only for a loopback host),
     * with {@code token} or the content of {@code tokenFile}, trusting {@code caFile}'s certificates
     * (null: the JDK's trust store). Its status is asked once, which also checks the token.
     */
    public static DaemonClient remote(String url, String token, String tokenFile, String caFile) {
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ControlException(ErrorKind.BAD_REQUEST, ENV_URL + " is not a URL: " + url);
        }
        String host = u.getHost();
        if (host == null || u.getScheme() == null || !(u.getScheme().equals("https") || u.getScheme().equals("http"))) {
            throw new ControlException(ErrorKind.BAD_REQUEST, ENV_URL + " must be https://HOST:PORT, not " + url);
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = u.getPort() < 0 ? (u.getScheme().equals("https") ? 443 : 80) : u.getPort();
        SSLSocketFactory tls = null;
        if (u.getScheme().equals("https")) {
            try {
                tls = (caFile == null || caFile.isBlank() ? SSLContext.getDefault() : Tls.client(Path.of(caFile))).getSocketFactory();
            } catch (NoSuchAlgorithmException e) {
                throw new ControlException(ErrorKind.INTERNAL, "no TLS in this JVM: " + e.getMessage(), e);
            }
        } else if (!loopback(host)) {
            throw new ControlException(ErrorKind.BAD_REQUEST, "refusing to send a token in plain HTTP to " + host
                    + ": use https:// (clonefs mount --listen ADDR:PORT --tls-cert F --tls-key F)");
        }
        String t = token;
        if ((t == null || t.isBlank()) && tokenFile != null && !tokenFile.isBlank()) {
            try {
                t = Files.readString(Path.of(tokenFile), StandardCharsets.US_ASCII).trim();
            } catch (IOException e) {
                throw new ControlException(ErrorKind.NO_TOKEN, "cannot read " + ENV_TOKEN_FILE + " " + tokenFile + ": " + e.getMessage(), e);
            }
        }
        if (t == null || t.isBlank()) {
            throw new ControlException(ErrorKind.NO_TOKEN, ENV_URL + " is set: give the token in " + ENV_TOKEN + " or "
                    + ENV_TOKEN_FILE + " (clonefs token create on the daemon's host)");
        }
        LoopbackHttp.Endpoint at = new LoopbackHttp.Endpoint(host, port, tls);
        HttpJsonClient http = new HttpJsonClient(at, t.trim(), "the clonefs daemon at " + at.url());
        Api.Status s;
        try {
            s = http.call("GET", "status", null, Api.Status.class, PROBE_TIMEOUT);
        } catch (ControlException e) {
            if (e.kind() != ErrorKind.UNREACHABLE) {
                throw e;
            }
            s = http.call("GET", "status", null, Api.Status.class, BUSY_PROBE_TIMEOUT);
        }
        return new DaemonClient(new DaemonInfo(s.pid(), port, s.pool(), s.mountpoint(), null, s.version(), at.url(), null), http);
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * The client of the pool's daemon if one is published, alive and answering for this pool; empty
     * when no daemon runs (a stale {@code daemon.json} is ignored).
     */
    public static Optional<DaemonClient> findLocal(Path pool) {
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
