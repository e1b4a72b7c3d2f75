package io.clonefs.daemon;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.clonefs.api.Api;
import io.clonefs.api.ApiErrors;
import io.clonefs.api.ControlException;
import io.clonefs.api.Tls;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.metrics.Metrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's control API: HTTP on 127.0.0.1, JSON under {@code /v1}, bearer token required.
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><th>request</th><th>body</th><th>reply</th></tr>
 *   <tr><td>GET /v1/status</td><td></td><td>{@link Api.Status}</td></tr>
 *   <tr><td>GET /v1/datasets</td><td></td><td>{@link Api.Datasets}</td></tr>
 *   <tr><td>GET /v1/volumes</td><td></td><td>[{@link Api.VolumeView}]</td></tr>
 *   <tr><td>GET /v1/snapshots</td><td></td><td>[{@link Api.SnapshotView}]</td></tr>
 *   <tr><td>POST /v1/volumes</td><td>{@link Api.CreateVolume}</td><td>201 {@link Api.Created}</td></tr>
 *   <tr><td>POST /v1/snapshots</td><td>{@link Api.CreateSnapshot}</td><td>201 {@link Api.Created}</td></tr>
 *   <tr><td>POST /v1/clones</td><td>{@link Api.CreateClone}</td><td>201 {@link Api.Cloned}</td></tr>
 *   <tr><td>DELETE /v1/datasets/NAME?recursive=true</td><td></td><td>{@link Api.Destroyed}</td></tr>
 *   <tr><td>GET /v1/space</td><td></td><td>{@link Api.Space}</td></tr>
 *   <tr><td>GET /v1/space/history</td><td></td><td>{@link Api.SpaceHistory} (the last 24 h, one a minute)</td></tr>
 *   <tr><td>POST /v1/fsck</td><td></td><td>{@link Api.Fsck}</td></tr>
 *   <tr><td>POST /v1/sync</td><td></td><td>{@link Api.Ok}</td></tr>
 *   <tr><td>POST /v1/shutdown</td><td></td><td>202 {@link Api.Ok}; the daemon then unmounts and exits</td></tr>
 *   <tr><td>GET /v1/events?since=SEQ&amp;limit=N</td><td></td><td>{@link EventLog.Page}</td></tr>
 *   <tr><td>GET /v1/tokens</td><td></td><td>[{@link Api.TokenView}] (admin)</td></tr>
 *   <tr><td>POST /v1/tokens</td><td>{@link Api.CreateToken}</td><td>201 {@link Api.TokenCreated} (admin)</td></tr>
 *   <tr><td>DELETE /v1/tokens/ID</td><td></td><td>{@link Api.TokenView} (admin)</td></tr>
 *   <tr><td>GET /v1/openapi.json, /v1/openapi.yaml</td><td></td><td>the OpenAPI 3 document (no token needed)</td></tr>
 *   <tr><td>GET /metrics</td><td></td><td>Prometheus text format 0.0.4 (no token needed)</td></tr>
 * </table>
 *
 * <p>Who may do what: the pool's token ({@code POOL/daemon.token}) and the console's sessions
 * everything; a scoped token ({@link TokenStore}) what its {@link Scope} covers ({@link #needed}).
 * A request its token does not cover is answered 403 {@code forbidden} and logged as a
 * {@code forbidden} event; an unknown, revoked or expired token 401.
 *
 * <p>Besides 127.0.0.1, the server may listen on another address ({@link Listen}, {@code clonefs
 * mount --listen}): over TLS for any address, in plain HTTP only on a loopback one. The TLS
 * listener serves the API alone (no console; {@code /metrics} needs a token there).
 *
 * <p>The OpenAPI document ({@code openapi.json} next to this class, copied to
 * {@code docs/api/openapi.json}) describes every route, extensions' included.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** The largest request body taken (a migration or a rules file travels in one). */
    public static final int MAX_BODY = 16 << 20;

    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final PoolService service;
    private final byte[] token;
    private final Supplier<Api.Status> status;
    private final Runnable shutdown;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, Extension> extensions = new ConcurrentHashMap<>();
    private final Map<String, ScopeRule> scopeRules = new ConcurrentHashMap<>();
    private final HttpServer other;
    private final boolean otherTls;
    private final ExecutorService otherExecutor;
    private volatile TokenStore tokens;
    private final ApiMetrics apiMetrics = new ApiMetrics();
    private volatile Front front;
    private volatile EventLog events;
    private volatile SpaceHistory spaceHistory;
    private volatile boolean closed;

    /**
     * Routes under {@code /v1/PREFIX/...} served by another component (e.g. a PostgreSQL manager),
     * with the same token check and error mapping: throw a {@code ClonefsException} or a
     * {@link ControlException} to answer with an error.
     */
    @FunctionalInterface
    public interface Extension {
        Reply handle(Request request) throws IOException;
    }

    /**
     * A request to an extension.
     *
     * @param path what follows {@code /v1/PREFIX} ({@code ""} or starting with {@code /}), decoded
     */
    public record Request(String method, String path, String query, byte[] body, ObjectMapper json) {
        /** The body as JSON of the given type ({@code bad_request} if it is not). */
        public <T> T body(Class<T> type) {
            try {
                T v = json.readValue(body, type);
                if (v == null) {
                    throw new ControlException(ErrorKind.BAD_REQUEST, "request body is empty");
                }
                return v;
            } catch (IOException e) {
                throw new ControlException(ErrorKind.BAD_REQUEST, "request body is not valid JSON for " + type.getSimpleName());
            }
        }

        /** True when the query has {@code name}, {@code name=true} or {@code name=1}. */
        public boolean flag(String name) {
            return ControlServer.query(query, name);
        }
    }

    /** An extension's answer: HTTP status and a body serialised as JSON. */
    public record Reply(int status, Object body) {
    }

    /**
     * A browser front (the web console): serves the paths outside {@code /v1} and {@code /metrics}
     * and may authorise {@code /v1} requests that carry its session cookie instead of the token.
     */
    public interface Front {
        /** Answers a request outside {@code /v1} and {@code /metrics}; false when the path is not its own. */
        boolean serve(HttpExchange ex) throws IOException;

        /**
         * True when a {@code /v1} request without the bearer token carries a valid session; throws a
         * {@link ControlException} when it carries one but is not safe (a state change without the
         * session's CSRF token, or from another origin).
         */
        boolean authorize(HttpExchange ex);
    }

    /**
     * The scope a request to an extension needs when it is neither GET nor HEAD (those need
     * {@link Scope#READ}); without a rule, {@link Scope#ADMIN}.
     */
    @FunctionalInterface
    public interface ScopeRule {
        /** @param path what follows {@code /v1/PREFIX}, as an {@link Extension} sees it */
        Scope needed(String method, String path);
    }

    /**
     * The other listener: {@code address} over TLS with {@code tls}, or in plain HTTP when
     * {@code tls} is null (only on a loopback address: {@link #listen} refuses any other).
     */
    public record Listen(InetSocketAddress address, SSLContext tls) {
    }

    /**
     * Parses {@code --listen ADDR:PORT} ({@code [V6]:PORT} for IPv6) with its TLS files; refuses a
     * non-loopback address without both files, and files that do not load, as invalid arguments.
     */
    public static Listen listen(String addrPort, Path cert, Path key) {
        if ((cert == null) != (key == null)) {
            throw new ClonefsException.InvalidArgument("--tls-cert and --tls-key go together");
        }
        if (addrPort == null) {
            if (cert != null) {
                throw new ClonefsException.InvalidArgument("--tls-cert and --tls-key need --listen ADDR:PORT");
            }
            return null;
        }
        int colon = addrPort.lastIndexOf(':');
        String host = colon <= 0 ? "" : addrPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(addrPort.substring(colon + 1));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            port = -1;
        }
        if (host.isEmpty() || port < 0 || port > 65535) {
            throw new ClonefsException.InvalidArgument("--listen wants ADDR:PORT (e.g. 0.0.0.0:7443 or [::]:7443), not '" + addrPort + "'");
        }
        InetAddress addr;
        try {
            addr = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ClonefsException.InvalidArgument("--listen " + addrPort + ": unknown address " + host);
        }
        if (cert == null && !addr.isLoopbackAddress()) {
            throw new ClonefsException.InvalidArgument("refusing to serve the control API on " + addrPort
                    + " without TLS: give --tls-cert FILE --tls-key FILE, or listen on a loopback address");
        }
        return new Listen(new InetSocketAddress(addr, port), cert == null ? null : Tls.server(cert, key));
    }

    /** The scoped tokens served by {@code /v1/tokens} and accepted as bearer tokens; set before {@link #start()}. */
    public void tokens(TokenStore store) {
        this.tokens = store;
    }

    /** Installs the browser front; call before {@link #start()}. */
    public void front(Front f) {
        this.front = f;
    }

    /** True when {@code candidate} is the pool's token (constant time). */
    public boolean tokenMatches(String candidate) {
        byte[] c = ("Bearer " + candidate).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(c, token);
    }

    /** Serves {@code /v1/PREFIX/...} with {@code extension}; call before {@link #start()}. */
    public void extend(String prefix, Extension extension) {
        if (prefix.isEmpty() || prefix.contains("/")) {
            throw new IllegalArgumentException("bad prefix " + prefix);
        }
        extensions.put(prefix, extension);
    }

    /** The same, with the scopes its state changes need (default: {@link Scope#ADMIN}). */
    public void extend(String prefix, Extension extension, ScopeRule rule) {
        extend(prefix, extension);
        scopeRules.put(prefix, rule);
    }

    /**
     * Binds 127.0.0.1:{@code port} (0 for an ephemeral port); call {@link #start()} to serve.
     *
     * @param shutdown run (on its own thread) after {@code POST /v1/shutdown} was answered
     */
    public ControlServer(PoolService service, String token, int port, Supplier<Api.Status> status, Runnable shutdown)
            throws IOException {
        this(service, token, port, null, status, shutdown);
    }

    /** The same, also listening on {@code listen} (null: 127.0.0.1 only). */
    public ControlServer(PoolService service, String token, int port, Listen listen, Supplier<Api.Status> status,
                         Runnable shutdown) throws IOException {
        this.service = service;
        this.token = ("Bearer " + token).getBytes(StandardCharsets.US_ASCII);
        this.status = status;
        this.shutdown = shutdown;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        AtomicInteger n = new AtomicInteger();
        // long requests (a branch waits for PostgreSQL to recover) must not starve quick ones such
        // as the status probe clients use to find the daemon: up to 64 threads, idle ones retire
        ThreadPoolExecutor pool = new ThreadPoolExecutor(64, 64, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "clonefs-control-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        this.executor = pool;
        server.setExecutor(executor);
        server.createContext("/", ex -> handle(ex, false));
        if (listen == null) {
            other = null;
            otherTls = false;
            otherExecutor = null;
        } else {
            HttpServer o;
            try {
                if (listen.tls() != null) {
                    HttpsServer s = HttpsServer.create(listen.address(), 16);
                    s.setHttpsConfigurator(new HttpsConfigurator(listen.tls()));
                    o = s;
                } else {
                    o = HttpServer.create(listen.address(), 16);
                }
            } catch (IOException e) {
                server.stop(0);
                executor.shutdownNow();
                throw new IOException("cannot listen on " + listen.address() + ": " + e.getMessage(), e);
            }
            other = o;
            otherTls = listen.tls() != null;
            // threads of its own: clients on the network that stall (in the TLS handshake, or sending
            // a request slowly) can hold up to 16 of them, never the loopback port's
            AtomicInteger m = new AtomicInteger();
            ThreadPoolExecutor op = new ThreadPoolExecutor(16, 16, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "clonefs-control-listen-" + m.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            op.allowCoreThreadTimeOut(true);
            otherExecutor = op;
            other.setExecutor(otherExecutor);
            other.createContext("/", ex -> handle(ex, otherTls));
        }
    }

    /** The URL of the other listener (its bound port), or null when there is none. */
    public String listenUrl() {
        if (other == null) {
            return null;
        }
        InetSocketAddress a = other.getAddress();
        String h = a.getAddress().getHostAddress();
        return (otherTls ? "https://" : "http://") + (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /** The event log served by {@code GET /v1/events}; set before {@link #start()}. */
    public void events(EventLog log) {
        this.events = log;
    }

    /** The samples served by {@code GET /v1/space/history}; set before {@link #start()}. */
    public void spaceHistory(SpaceHistory h) {
        this.spaceHistory = h;
    }

    /** The event log, or null when none was set. */
    public EventLog events() {
        return events;
    }

    public void start() {
        server.start();
        LOG.info("control API listening on 127.0.0.1:{}", port());
        if (other != null) {
            other.start();
            LOG.info("control API also listening on {}", listenUrl());
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Who a request is: the scope its credentials give, and a name for events. */
    private record Caller(Scope scope, String name, String id) {
    }

    /**
     * @param tls true on the TLS listener: no console there, and {@code /metrics} needs a token
     */
    private void handle(HttpExchange ex, boolean tls) throws IOException {
        try (ex) {
            String route = ApiMetrics.route(ex.getRequestURI().getPath());
            if (ex.getRequestMethod().equals("GET") && !(tls && route.equals("/metrics")) && serveOpen(ex, route)) {
                return;
            }
            Front f = tls ? null : front;
            String path = ex.getRequestURI().getPath();
            if (f != null && !path.startsWith("/v1/") && !path.equals("/metrics") && f.serve(ex)) {
                return;
            }
            int code;
            Object reply;
            try {
                Caller caller = caller(ex);
                if (caller == null && f != null && f.authorize(ex)) {
                    caller = new Caller(Scope.ADMIN, "console", null);
                }
                if (caller == null) {
                    throw new ControlException(ErrorKind.UNAUTHORIZED, "missing, wrong or revoked bearer token (POOL/daemon.token, or one of 'clonefs token create')");
                }
                if (closed) {
                    throw new ControlException(ErrorKind.SHUTTING_DOWN, "the daemon is shutting down");
                }
                Scope needed = needed(ex.getRequestMethod(), path);
                if (!caller.scope().covers(needed)) {
                    refused(caller, needed, ex.getRequestMethod(), path);
                }
                if (tls && route.equals("/metrics") && ex.getRequestMethod().equals("GET") && serveOpen(ex, route)) {
                    return;
                }
                Object[] r = route(ex);
                code = (Integer) r[0];
                reply = r[1];
            } catch (RuntimeException e) {
                ApiErrors.Mapped m = ApiErrors.map(e);
                if (m.status() == 500) {
                    LOG.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
                } else {
                    LOG.debug("{} {}: {}", ex.getRequestMethod(), ex.getRequestURI(), e.getMessage());
                }
                code = m.status();
                reply = m.body();
            }
            drain(ex);
            byte[] out = json.writeValueAsBytes(reply);
            apiMetrics.count(route, code);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(code, out.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(out);
            }
            if (reply instanceof ShutdownAccepted) {
                Thread t = new Thread(shutdown, "clonefs-shutdown");
                t.start();
            }
        }
    }

    /**
     * Reads what is left of the request body (up to {@link #MAX_BODY} bytes) before the answer: a
     * socket closed with unread bytes in it is reset, and the client then loses the answer (an
     * error answered before the body was read, such as a bad query parameter).
     */
    private static void drain(HttpExchange ex) {
        try {
            InputStream in = ex.getRequestBody();
            long left = MAX_BODY;
            byte[] buf = new byte[8192];
            int n;
            while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                left -= n;
            }
        } catch (IOException e) {
            LOG.debug("request body not drained: {}", e.getMessage());
        }
    }

    /**
     * The token-free documents: the metrics (loopback only, and nothing in them is secret) and the
     * OpenAPI document. Returns false for any other route.
     */
    private boolean serveOpen(HttpExchange ex, String route) throws IOException {
        byte[] out;
        String type;
        switch (route) {
            case "/metrics" -> {
                StringBuilder b = new StringBuilder(Metrics.process().render());
                apiMetrics.count(route, 200); // this scrape counts too
                apiMetrics.render(b);
                out = b.toString().getBytes(StandardCharsets.UTF_8);
                type = "text/plain; version=0.0.4; charset=utf-8";
            }
            case "/v1/openapi.json", "/v1/openapi.yaml" -> {
                out = openapi();
                apiMetrics.count(route, 200);
                // JSON is YAML 1.2: one document serves both names
                type = route.endsWith(".json") ? "application/json" : "application/yaml";
            }
            default -> {
                return false;
            }
        }
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(200, out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
        return true;
    }

    /** The OpenAPI document bundled next to this class. */
    public static byte[] openapi() throws IOException {
        try (InputStream in = ControlServer.class.getResourceAsStream("openapi.json")) {
            if (in == null) {
                throw new IOException("openapi.json is missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    private boolean authorized(HttpExchange ex) {
        String h = ex.getRequestHeaders().getFirst("Authorization");
        return h != null && MessageDigest.isEqual(h.trim().getBytes(StandardCharsets.US_ASCII), token);
    }

    /**
     * The caller its bearer token names: the pool's token is {@link Scope#ADMIN}, a scoped token its
     * scope; null for none or an unknown one. An expired token is refused here (401).
     */
    private Caller caller(HttpExchange ex) {
        if (authorized(ex)) {
            return new Caller(Scope.ADMIN, "pool token", null);
        }
        TokenStore store = tokens;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (store == null || h == null) {
            return null;
        }
        h = h.trim();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        TokenStore.Check c = store.check(h.substring(7).trim());
        if (c == null) {
            return null;
        }
        if (c.expired()) {
            throw new ControlException(ErrorKind.UNAUTHORIZED, "token " + c.token().name() + " (" + c.token().id()
                    + ") expired at " + c.token().expiresAt());
        }
        return new Caller(c.scope(), c.token().name(), c.token().id());
    }

    /**
     * The scope a request needs: {@link Scope#ADMIN} for {@code /v1/tokens}; {@link Scope#READ} for
     * any other GET or HEAD; for other methods, an extension's {@link ScopeRule}, else
     * {@link Scope#ADMIN}.
     */
    Scope needed(String method, String path) {
        if (path.equals("/v1/tokens") || path.startsWith("/v1/tokens/")) {
            return Scope.ADMIN;
        }
        if (method.equals("GET") || method.equals("HEAD")) {
            return Scope.READ;
        }
        if (path.startsWith("/v1/")) {
            String rest = path.substring(4);
            int slash = rest.indexOf('/');
            String prefix = slash < 0 ? rest : rest.substring(0, slash);
            ScopeRule rule = scopeRules.get(prefix);
            if (rule != null && extensions.containsKey(prefix)) {
                Scope s = rule.needed(method, slash < 0 ? "" : rest.substring(slash));
                return s == null ? Scope.ADMIN : s;
            }
        }
        return Scope.ADMIN;
    }

    /** Logs a {@code forbidden} event and throws the 403. */
    private void refused(Caller caller, Scope needed, String method, String path) {
        EventLog log = events;
        if (log != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("method", method);
            d.put("path", path.length() > 200 ? path.substring(0, 200) + "..." : path);
            d.put("scope", caller.scope().wire());
            d.put("needs", needed.wire());
            if (caller.id() != null) {
                d.put("id", caller.id());
            }
            try {
                log.append("forbidden", "token", caller.name(), d);
            } catch (RuntimeException e) {
                LOG.warn("cannot log a refused request: {}", e.getMessage());
            }
        }
        throw new ControlException(ErrorKind.FORBIDDEN, "token " + caller.name() + " has scope " + caller.scope().wire()
                + "; " + method + " " + path + " needs " + needed.wire());
    }

    /** A 202 reply that also starts the shutdown once it has been sent. */
    record ShutdownAccepted(boolean ok) {
    }

    private Object[] route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        URI uri = ex.getRequestURI();
        String path = uri.getPath();
        if (!path.startsWith("/v1/")) {
            throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: " + path);
        }
        String rest = path.substring(4);
        int slash = rest.indexOf('/');
        Extension ext = extensions.get(slash < 0 ? rest : rest.substring(0, slash));
        if (ext != null) {
            byte[] b;
            try (InputStream in = ex.getRequestBody()) {
                b = in.readNBytes(MAX_BODY + 1);
            }
            if (b.length > MAX_BODY) {
                throw new ControlException(ErrorKind.BAD_REQUEST, "request body too large");
            }
            Reply r = ext.handle(new Request(method, slash < 0 ? "" : rest.substring(slash), uri.getRawQuery(), b, json));
            return new Object[] {r.status(), r.body()};
        }
        switch (rest) {
            case "status":
                requireMethod(method, "GET");
                return ok(status.get());
            case "datasets":
                requireMethod(method, "GET");
                return ok(service.list());
            case "volumes":
                if (method.equals("GET")) {
                    return ok(service.list().volumes());
                }
                requireMethod(method, "POST");
                Api.CreateVolume cv = body(ex, Api.CreateVolume.class);
                return new Object[] {201, service.createVolume(cv.name())};
            case "snapshots":
                if (method.equals("GET")) {
                    return ok(service.snapshots());
                }
                requireMethod(method, "POST");
                Api.CreateSnapshot cs = body(ex, Api.CreateSnapshot.class);
                return new Object[] {201, service.snapshot(cs.volume(), cs.snapshot())};
            case "clones":
                requireMethod(method, "POST");
                Api.CreateClone cc = body(ex, Api.CreateClone.class);
                return new Object[] {201, service.cloneVolume(cc.source(), cc.name())};
            case "space":
                requireMethod(method, "GET");
                return ok(service.space());
            case "space/history":
                requireMethod(method, "GET");
                SpaceHistory h = spaceHistory;
                if (h == null) {
                    throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "this daemon keeps no space history");
                }
                return ok(h.history());
            case "fsck":
                requireMethod(method, "POST");
                return ok(service.fsck());
            case "sync":
                requireMethod(method, "POST");
                service.sync();
                return ok(new Api.Ok(true));
            case "events":
                requireMethod(method, "GET");
                EventLog log = events;
                if (log == null) {
                    throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "this daemon keeps no event log");
                }
                long since = number(uri.getRawQuery(), "since", 0, 0, Long.MAX_VALUE);
                int limit = (int) number(uri.getRawQuery(), "limit", 1000, 1, 10_000);
                return ok(log.since(since, limit));
            case "shutdown":
                requireMethod(method, "POST");
                closed = true;
                return new Object[] {202, new ShutdownAccepted(true)};
            case "tokens":
                if (method.equals("GET")) {
                    return ok(tokenStore().list());
                }
                requireMethod(method, "POST");
                Api.CreateToken ct = body(ex, Api.CreateToken.class);
                return new Object[] {201, tokenStore().create(ct.scope(), ct.ttl(), ct.name())};
            default:
                if (rest.startsWith("tokens/") && rest.length() > "tokens/".length()) {
                    requireMethod(method, "DELETE");
                    return ok(tokenStore().revoke(rest.substring("tokens/".length())));
                }
                if (rest.startsWith("datasets/") && rest.length() > "datasets/".length()) {
                    requireMethod(method, "DELETE");
                    String name = rest.substring("datasets/".length());
                    boolean recursive = query(uri.getQuery(), "recursive");
                    return ok(service.destroy(name, recursive));
                }
                throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: " + path);
        }
    }

    private TokenStore tokenStore() {
        TokenStore t = tokens;
        if (t == null) {
            throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "this daemon keeps no scoped tokens");
        }
        return t;
    }

    private static Object[] ok(Object reply) {
        return new Object[] {200, reply};
    }

    private static void requireMethod(String method, String want) {
        if (!method.equals(want)) {
            throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED, method + " is not allowed here (use " + want + ")");
        }
    }

    /** A whole-number query parameter within [min, max], or {@code dflt} when absent. */
    static long number(String q, String name, long dflt, long min, long max) {
        if (q == null) {
            return dflt;
        }
        for (String kv : q.split("&")) {
            if (kv.startsWith(name + "=")) {
                String v = kv.substring(name.length() + 1);
                try {
                    long n = Long.parseLong(v);
                    if (n >= min && n <= max) {
                        return n;
                    }
                } catch (NumberFormatException e) {
                    // answered below
                }
                throw new ControlException(ErrorKind.BAD_REQUEST, name + " must be a whole number from " + min + " to " + max
                        + ", not '" + v + "'");
            }
        }
        return dflt;
    }

    static boolean query(String q, String name) {
        if (q == null) {
            return false;
        }
        for (String kv : q.split("&")) {
            if (kv.equals(name) || kv.equalsIgnoreCase(name + "=true") || kv.equals(name + "=1")) {
                return true;
            }
        }
        return false;
    }

    private <T> T body(HttpExchange ex, Class<T> type) throws IOException {
        byte[] b;
        try (InputStream in = ex.getRequestBody()) {
            b = in.readNBytes(MAX_BODY + 1);
        }
        if (b.length > MAX_BODY) {
            throw new ControlException(ErrorKind.BAD_REQUEST, "request body too large");
        }
        try {
            T v = json.readValue(b, type);
            if (v == null) {
                throw new ControlException(ErrorKind.BAD_REQUEST, "request body is empty");
            }
            return v;
        } catch (IOException e) {
            throw new ControlException(ErrorKind.BAD_REQUEST, "request body is not valid JSON for " + type.getSimpleName());
        }
    }

    /** Stops answering (in-flight requests are cut off) and frees the port. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (other != null) {
            other.stop(0);
            otherExecutor.shutdownNow();
        }
        server.stop(0);
        executor.shutdownNow();
    }
}
