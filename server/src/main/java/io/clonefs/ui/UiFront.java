package io.clonefs.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import io.clonefs.api.ControlException;
import io.clonefs.base.ErrorKind;
import io.clonefs.daemon.ControlServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's HTTP side: pages and assets under {@code /ui/}, sign-in and sign-out, and the
 * session check that lets a signed-in browser call {@code /v1}.
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><td>GET /ui/</td><td>the console (signed in) or a redirect to the sign-in page</td></tr>
 *   <tr><td>GET /ui/login</td><td>the sign-in page; with {@code ?code=C} a one-time link: signs in and redirects to /ui/</td></tr>
 *   <tr><td>POST /ui/login</td><td>{@code {"token":"..."}}: 200 and the session cookie, 401 wrong token, 429 too many failures</td></tr>
 *   <tr><td>GET /ui/session</td><td>{@code {"csrf":"..."}} for the signed-in page, else 401</td></tr>
 *   <tr><td>POST /ui/logout</td><td>ends the session (CSRF-checked)</td></tr>
 *   <tr><td>GET /ui/assets/NAME</td><td>the console's modules and style sheet, from the jar</td></tr>
 * </table>
 *
 * <p>A request with the session cookie is refused unless its Host is this loopback port (no DNS
 * rebinding), its {@code Sec-Fetch-Site} (when the browser sends one) is {@code same-origin} or
 * {@code none}, and, for anything but GET and HEAD, its {@code Origin} is this console's and its
 * {@code X-CSRF-Token} header is the session's.
 */
final class UiFront implements ControlServer.Front {
    private static final Logger LOG = LoggerFactory.getLogger(UiFront.class);
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final Set<String> ASSETS = Set.of("app.js", "api.js", "login.js", "console.css");
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ControlServer server;
    private final Sessions sessions;

    UiFront(ControlServer server, Sessions sessions) {
        this.server = server;
        this.sessions = sessions;
    }

    /** The session cookie's name: one a port, since browsers share cookies across a host's ports. */
    String cookieName() {
        return "clonefs-session-" + server.port();
    }

    @Override
    public boolean serve(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        if (!path.equals("/") && !path.equals("/ui") && !path.startsWith("/ui/")) {
            return false;
        }
        drain(ex);
        if (!hostOk(ex)) {
            text(ex, 421, "this console answers only at http://127.0.0.1:" + server.port() + "/ui/");
            return true;
        }
        if (path.equals("/") || path.equals("/ui")) {
            if (method.equals("GET") || method.equals("HEAD")) {
                redirect(ex, "/ui/");
            } else {
                error(ex, 405, "method_not_allowed", method + " is not allowed here (use GET)");
            }
            return true;
        }
        String rest = path.substring("/ui/".length());
        switch (rest) {
            case "" -> {
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    error(ex, 405, "method_not_allowed", method + " is not allowed here (use GET)");
                } else if (session(ex) == null) {
                    redirect(ex, "/ui/login");
                } else {
                    asset(ex, "index.html");
                }
            }
            case "login" -> login(ex, method);
            case "session" -> {
                Sessions.Session s = session(ex);
                String why = foreign(ex);
                if (why != null) {
                    error(ex, 403, "forbidden", why);
                } else if (s == null) {
                    error(ex, 401, "unauthorized", "not signed in");
                } else {
                    json(ex, 200, Map.of("csrf", s.csrf()), null);
                }
            }
            case "logout" -> {
                if (!method.equals("POST")) {
                    error(ex, 405, "method_not_allowed", method + " is not allowed here (use POST)");
                    return true;
                }
                Sessions.Session s = session(ex);
                if (s != null) {
                    try {
                        checkSafe(ex, s);
                    } catch (ControlException e) {
                        error(ex, 403, "forbidden", e.getMessage());
                        return true;
                    }
                    sessions.close(s.id());
                }
                json(ex, 200, Map.of("ok", true), cookieName() + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
            }
            default -> {
                if (rest.startsWith("assets/") && ASSETS.contains(rest.substring("assets/".length()))
                        && (method.equals("GET") || method.equals("HEAD"))) {
                    asset(ex, rest.substring("assets/".length()));
                } else {
                    error(ex, 404, "no_such_endpoint", "no such page: " + path);
                }
            }
        }
        return true;
    }

    private void login(HttpExchange ex, String method) throws IOException {
        if (method.equals("GET") || method.equals("HEAD")) {
            String code = param(ex.getRequestURI().getRawQuery(), "code");
            if (code == null) {
                asset(ex, "login.html");
                return;
            }
            // the code leaves the address bar at once: a redirect either way
            if (!sessions.mayTry()) {
                redirect(ex, "/ui/login?refused=busy");
            } else if (sessions.useCode(code)) {
                LOG.info("console: signed in with a one-time link");
                redirect(ex, "/ui/", cookie(sessions.open()));
            } else {
                sessions.failed();
                LOG.info("console: sign-in refused (a used, expired or unknown one-time link)");
                redirect(ex, "/ui/login?refused=link");
            }
            return;
        }
        if (!method.equals("POST")) {
            error(ex, 405, "method_not_allowed", method + " is not allowed here (use GET or POST)");
            return;
        }
        String why = foreign(ex);
        if (why != null) {
            error(ex, 403, "forbidden", why);
            return;
        }
        if (!sessions.mayTry()) {
            error(ex, 429, "too_many_attempts", "too many failed sign-ins: wait a minute and try again");
            return;
        }
        String token = null;
        try {
            JsonNode body = JSON.readTree(ex.getAttribute("body") instanceof byte[] b ? b : new byte[0]);
            if (body != null && body.hasNonNull("token")) {
                token = body.get("token").asText().strip();
            }
        } catch (IOException e) {
            // answered as a wrong token
        }
        if (token == null || token.isEmpty() || !server.tokenMatches(token)) {
            sessions.failed();
            LOG.info("console: sign-in refused (wrong token)");
            error(ex, 401, "unauthorized", "wrong token: paste the contents of POOL/daemon.token, or use 'clonefs ui' for a link");
            return;
        }
        LOG.info("console: signed in with the pool's token");
        json(ex, 200, Map.of("ok", true), cookie(sessions.open()));
    }

    @Override
    public boolean authorize(HttpExchange ex) {
        Sessions.Session s = session(ex);
        if (s == null) {
            return false;
        }
        checkSafe(ex, s);
        return true;
    }

    /** Throws when a request carrying session {@code s} may come from another site or lacks its CSRF token. */
    private void checkSafe(HttpExchange ex, Sessions.Session s) {
        if (!hostOk(ex)) {
            throw new ControlException(ErrorKind.UNAUTHORIZED, "refused: the Host header is not this console's");
        }
        String why = foreign(ex);
        if (why != null) {
            throw new ControlException(ErrorKind.UNAUTHORIZED, why);
        }
        String m = ex.getRequestMethod();
        if (m.equals("GET") || m.equals("HEAD")) {
            return;
        }
        if (ex.getRequestHeaders().getFirst("Origin") == null) {
            throw new ControlException(ErrorKind.UNAUTHORIZED, "refused: a state change from the console must carry its Origin");
        }
        if (!s.csrfMatches(ex.getRequestHeaders().getFirst(CSRF_HEADER))) {
            throw new ControlException(ErrorKind.UNAUTHORIZED, "refused: missing or wrong " + CSRF_HEADER + " header");
        }
    }

    /** Why a request looks cross-origin (its Origin is another's, or Sec-Fetch-Site says so), or null. */
    private String foreign(HttpExchange ex) {
        Headers h = ex.getRequestHeaders();
        String site = h.getFirst("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            return "refused: a cross-origin request (Sec-Fetch-Site: " + site + ")";
        }
        String origin = h.getFirst("Origin");
        if (origin != null && !origin.equals("http://" + h.getFirst("Host"))) {
            return "refused: a cross-origin request (Origin " + origin + " is not this console)";
        }
        return null;
    }

    /** True when the Host header names this port on a loopback name (a rebound DNS name is refused). */
    private boolean hostOk(HttpExchange ex) {
        String host = ex.getRequestHeaders().getFirst("Host");
        int p = server.port();
        return host != null && (host.equals("127.0.0.1:" + p) || host.equals("localhost:" + p) || host.equals("[::1]:" + p));
    }

    private Sessions.Session session(HttpExchange ex) {
        String name = cookieName();
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
            for (String part : header.split(";")) {
                String kv = part.strip();
                if (kv.startsWith(name + "=")) {
                    Sessions.Session s = sessions.find(kv.substring(name.length() + 1));
                    if (s != null) {
                        return s;
                    }
                }
            }
        }
        return null;
    }

    private String cookie(Sessions.Session s) {
        return cookieName() + "=" + s.id() + "; HttpOnly; SameSite=Strict; Path=/";
    }

    static String param(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String kv : rawQuery.split("&")) {
            if (kv.startsWith(name + "=")) {
                return java.net.URLDecoder.decode(kv.substring(name.length() + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** Reads the body (at most 64 KiB are kept, as the attribute "body"). */
    private static void drain(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(64 << 10);
            ex.setAttribute("body", b);
            in.transferTo(OutputStream.nullOutputStream());
        }
    }

    private static void headers(HttpExchange ex, String type) {
        Headers h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("Content-Security-Policy", CSP);
        h.set("X-Content-Type-Options", "nosniff");
        h.set("X-Frame-Options", "DENY");
        h.set("Referrer-Policy", "no-referrer");
        h.set("Cache-Control", "no-store");
    }

    private void asset(HttpExchange ex, String name) throws IOException {
        byte[] b;
        try (InputStream in = UiFront.class.getResourceAsStream("assets/" + name)) {
            if (in == null) {
                error(ex, 500, "internal", name + " is missing from the jar");
                return;
            }
            b = in.readAllBytes();
        }
        String type = name.endsWith(".html") ? "text/html; charset=utf-8"
                : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
        headers(ex, type);
        send(ex, 200, ex.getRequestMethod().equals("HEAD") ? null : b);
    }

    private static void redirect(HttpExchange ex, String to) throws IOException {
        redirect(ex, to, null);
    }

    private static void redirect(HttpExchange ex, String to, String cookie) throws IOException {
        headers(ex, "text/plain; charset=utf-8");
        ex.getResponseHeaders().set("Location", to);
        if (cookie != null) {
            ex.getResponseHeaders().add("Set-Cookie", cookie);
        }
        send(ex, 303, null);
    }

    private static void text(HttpExchange ex, int status, String message) throws IOException {
        headers(ex, "text/plain; charset=utf-8");
        send(ex, status, (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code);
        m.put("message", message);
        json(ex, status, m, null);
    }

    private static void json(HttpExchange ex, int status, Object body, String cookie) throws IOException {
        headers(ex, "application/json");
        if (cookie != null) {
            ex.getResponseHeaders().add("Set-Cookie", cookie);
        }
        send(ex, status, JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        if (body == null) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }
}
