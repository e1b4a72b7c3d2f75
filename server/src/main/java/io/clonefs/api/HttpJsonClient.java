package io.clonefs.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The one HTTP client of the control API on {@code 127.0.0.1:PORT/v1/}: every call carries the
 * bearer token, sends and reads JSON (unknown properties in a reply are ignored), and turns an
 * error reply into the exception of its kind ({@link ApiErrors#toException}). A daemon that does
 * not answer is {@link ErrorKind#UNREACHABLE}, a reply that does not parse {@link ErrorKind#BAD_REPLY}.
 * The typed clients ({@code DaemonClient}, {@link PgClient}, {@code RemoteClient}) are thin wrappers
 * over one instance. Thread-safe: each call is its own connection ({@link LoopbackHttp}).
 */
public final class HttpJsonClient {
    /** The mapper of the wire records: what the server writes, the client reads back. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final int CONNECT_TIMEOUT_MS = 3000;

    private final LoopbackHttp.Endpoint endpoint;
    private final URI base;
    private final String token;
    private final String peer;

    /**
     * @param port  the control API's port on 127.0.0.1
     * @param token the daemon's bearer token
     * @param peer  who answers, for messages, e.g. {@code the clonefs daemon of /pool (pid 1, port 2)}
     */
    public HttpJsonClient(int port, String token, String peer) {
        this(LoopbackHttp.Endpoint.loopback(port), token, peer);
    }

    /** The same, for any endpoint (a daemon's TLS listener: {@code clonefs mount --listen}). */
    public HttpJsonClient(LoopbackHttp.Endpoint endpoint, String token, String peer) {
        this.endpoint = endpoint;
        this.base = URI.create("http://127.0.0.1:" + endpoint.port() + "/v1/"); // only its path is sent
        this.token = token;
        this.peer = peer;
    }

    /** {@code METHOD /v1/PATH} with {@code body} as JSON (none if null); the reply as a {@code type}. */
    public <T> T call(String method, String path, Object body, Class<T> type, Duration timeout) {
        return call(method, path, body, JSON.getTypeFactory().constructType(type), timeout);
    }

    /** The same, for a reply that is a JSON array of {@code element}. */
    public <T> List<T> callForList(String method, String path, Object body, Class<T> element, Duration timeout) {
        return call(method, path, body, JSON.getTypeFactory().constructCollectionType(List.class, element), timeout);
    }

    private <T> T call(String method, String path, Object body, JavaType type, Duration timeout) {
        if (Thread.currentThread().isInterrupted()) {
            // as the JDK client did: an interrupted caller does not start a call
            throw interrupted(new InterruptedException());
        }
        LoopbackHttp.Reply resp;
        try {
            byte[] payload = body == null ? null : JSON.writeValueAsBytes(body);
            URI uri = base.resolve(path);
            String target = uri.getRawQuery() == null ? uri.getRawPath() : uri.getRawPath() + "?" + uri.getRawQuery();
            resp = LoopbackHttp.exchange(endpoint, method, target, new String[] {
                "Authorization", "Bearer " + token,
                "Content-Type", "application/json",
                "Accept", "application/json"}, payload, CONNECT_TIMEOUT_MS, timeout.toMillis());
        } catch (IOException e) {
            throw new ControlException(ErrorKind.UNREACHABLE, peer + " does not answer: " + e, e);
        }
        int status = resp.status();
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
            throw new ControlException(ErrorKind.BAD_REPLY, "unexpected reply from the daemon: " + e.getMessage(), e);
        }
    }

    /** What a caller waiting for the daemon raises when interrupted (the interrupt flag set again first). */
    public static ControlException interrupted(InterruptedException e) {
        return new ControlException(ErrorKind.INTERRUPTED, "interrupted while waiting for the daemon", e);
    }

    /** A name as one path segment (spaces as {@code %20}). */
    public static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
