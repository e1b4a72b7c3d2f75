package io.clonefs.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The one HTTP client of the control API on {@code 127.0.0.1:PORT/v1/}: every call carries the
 * bearer token, sends and reads JSON (unknown properties in a reply are ignored), and turns an
 * error reply into the exception of its kind ({@link ApiErrors#toException}). A daemon that does
 * not answer is {@link ErrorKind#UNREACHABLE}, a reply that does not parse {@link ErrorKind#BAD_REPLY}.
 * The typed clients ({@code DaemonClient}, {@link PgClient}, {@code RemoteClient}) are thin wrappers
 * over one instance. Thread-safe.
 */
public final class HttpJsonClient {
    /** The mapper of the wire records: what the server writes, the client reads back. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

    private final URI base;
    private final String token;
    private final String peer;
    private final HttpClient http;

    /**
     * @param port  the control API's port on 127.0.0.1
     * @param token the daemon's bearer token
     * @param peer  who answers, for messages, e.g. {@code the clonefs daemon of /pool (pid 1, port 2)}
     */
    public HttpJsonClient(int port, String token, String peer) {
        this.base = URI.create("http://127.0.0.1:" + port + "/v1/");
        this.token = token;
        this.peer = peer;
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).version(HttpClient.Version.HTTP_1_1).build();
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
            throw new ControlException(ErrorKind.UNREACHABLE, peer + " does not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(e);
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
