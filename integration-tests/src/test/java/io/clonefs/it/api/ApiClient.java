package io.clonefs.it.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Talks to a running daemon's control API over real HTTP, as a script would: the port from
 * {@code POOL/daemon.json}, the bearer token from {@code POOL/daemon.token}. Every reply is checked
 * against the OpenAPI document by {@link OpenApiCheck} unless the caller asks for the raw reply.
 */
public final class ApiClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A reply: status, content type and body. */
    public record Reply(int status, String contentType, String body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        public String code() {
            return json().path("code").asText();
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final URI base;
    private final String token;
    private OpenApiCheck check;

    public ApiClient(Path pool) {
        try {
            JsonNode info = JSON.readTree(pool.resolve("daemon.json").toFile());
            this.base = URI.create("http://127.0.0.1:" + info.get("port").asInt());
            this.token = Files.readString(pool.resolve("daemon.token")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String token() {
        return token;
    }

    public URI base() {
        return base;
    }

    /** Checks every later reply against this document. */
    public void validateWith(OpenApiCheck c) {
        this.check = c;
    }

    /** A request with the right token; the reply is checked against the document. */
    public Reply call(String method, String path, String body) {
        Reply r = raw(method, path, body, "Bearer " + token);
        if (check != null) {
            check.check(method, path, r.status(), r.body());
        }
        return r;
    }

    /** The same, failing unless the status is {@code want}. */
    public JsonNode expect(int want, String method, String path, String body) {
        Reply r = call(method, path, body);
        if (r.status() != want) {
            throw new AssertionError(method + " " + path + ": expected " + want + ", got " + r.status() + ": " + r.body());
        }
        return r.json();
    }

    /** An unchecked request with the given Authorization header (null for none). */
    public Reply raw(String method, String path, String body, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** One sample value of the Prometheus text, e.g. {@code clonefs_fuse_op_seconds_count{op="write"}}; -1 if absent. */
    public static double sample(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return -1;
    }

    /** {@code GET /metrics} without a token. */
    public String metrics() {
        Reply r = raw("GET", "/metrics", null, null);
        if (r.status() != 200 || !r.contentType().startsWith("text/plain; version=0.0.4")) {
            throw new AssertionError("GET /metrics: " + r.status() + " " + r.contentType() + ": " + r.body());
        }
        return r.body();
    }
}
