package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.daemon.ControlServer;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.Proc;
import io.clonefs.it.support.Workspace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Security and hostile input (issue 7 §6, §7) against the real daemon: mode bits keep another OS
 * user out of a volume's private files; the control API needs the token, listens on loopback only
 * and validates every name; symlinks and {@code ..} cannot reach outside the pool or the mount; a
 * fuzzed API (random and malformed JSON, huge bodies, wrong content types and methods) and fuzzed
 * CLI arguments always get a clear 4xx or usage error, and the daemon stays up throughout.
 * {@code -Dclonefs.fuzz.seed=S}, {@code -Dclonefs.fuzz.requests=N}.
 */
class SecurityReliabilityIT {
    private static Workspace ws;
    private static Clonefs cfs;
    private static Path mnt;
    private static int port;
    private static String token;
    private static long daemonPid;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void mountPool() throws Exception {
        ws = Workspace.create("security");
        cfs = new Clonefs(ws, ws.root().resolve("pool"));
        cfs.init();
        mnt = ws.dir("mnt");
        cfs.mount(mnt);
        daemonPid = cfs.daemonPid();
        port = cfs.daemonInfo().get("port").asInt();
        token = Files.readString(cfs.pool().resolve("daemon.token")).strip();
        cfs.ok("create", "sec");
    }

    @AfterAll
    static void teardown() {
        if (ws != null) {
            ws.close();
        }
    }

    private static HttpResponse<String> send(String method, String path, String body, String auth, String contentType)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> api(String method, String path, String body) throws IOException, InterruptedException {
        return send(method, path, body, "Bearer " + token, "application/json");
    }

    private static void daemonStillUp() throws Exception {
        assertEquals(daemonPid, cfs.daemonPid(), "the daemon died");
        HttpResponse<String> s = api("GET", "/v1/status", null);
        assertEquals(200, s.statusCode(), s.body());
    }

    // --- §6 security

    @Test
    void otherUsersCannotReadPrivateFilesThroughTheMount() throws Exception {
        Path vol = mnt.resolve("sec");
        Path priv = Files.createDirectory(vol.resolve("private"));
        Files.writeString(priv.resolve("inside.txt"), "inside\n");
        Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rwx------"));
        Path secret = vol.resolve("secret.txt");
        Files.writeString(secret, "top secret\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path open = vol.resolve("public.txt");
        Files.writeString(open, "public\n");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));

        Proc.Result r = asNobody("cat", open.toString());
        assertEquals(0, r.exit(), "nobody must reach the mount at all (else the test proves nothing): " + r.describe());
        assertEquals("public\n", r.out());
        r = asNobody("cat", secret.toString());
        assertNotEquals(0, r.exit(), r.describe());
        assertTrue(r.err().contains("Permission denied"), r.describe());
        r = asNobody("ls", priv.toString());
        assertNotEquals(0, r.exit(), r.describe());
        assertTrue(r.err().contains("Permission denied"), r.describe());
        r = asNobody("cat", priv.resolve("inside.txt").toString());
        assertNotEquals(0, r.exit(), r.describe());
        r = asNobody("sh", "-c", "echo x >> " + open);
        assertNotEquals(0, r.exit(), "nobody wrote to a 0644 root file: " + r.describe());
        r = asNobody("touch", vol.resolve("intruder").toString());
        assertNotEquals(0, r.exit(), r.describe());
        assertFalse(Files.exists(vol.resolve("intruder")));
        // the same holds in a snapshot
        cfs.ok("snapshot", "sec@perm");
        Path snap = mnt.resolve(".snapshots/sec@perm");
        r = asNobody("cat", snap.resolve("secret.txt").toString());
        assertNotEquals(0, r.exit(), r.describe());
        assertEquals("top secret\n", Files.readString(snap.resolve("secret.txt")));
        cfs.ok("destroy", "sec@perm");
    }

    private static Proc.Result asNobody(String... cmd) {
        List<String> c = new ArrayList<>(List.of("runuser", "-u", "nobody", "--"));
        c.addAll(List.of(cmd));
        return Proc.run(c, Map.of(), Duration.ofSeconds(30));
    }

    @Test
    void theApiNeedsTheRightTokenAndListensOnLoopbackOnly() throws Exception {
        Path tokenFile = cfs.pool().resolve("daemon.token");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        for (String auth : new String[] {null, "", "Bearer", "Bearer ", "Bearer wrong", "Bearer " + token + "x",
            "Bearer " + token.substring(1), "Basic " + token, token, "bearer " + token.toUpperCase()}) {
            for (String[] req : new String[][] {{"GET", "/v1/datasets"}, {"POST", "/v1/volumes"}, {"POST", "/v1/shutdown"},
                {"DELETE", "/v1/datasets/sec"}, {"GET", "/v1/nonexistent"}}) {
                HttpResponse<String> r = send(req[0], req[1], "{\"name\":\"sneaky\"}", auth, "application/json");
                assertEquals(401, r.statusCode(), auth + " " + req[0] + " " + req[1] + ": " + r.body());
            }
        }
        daemonStillUp();
        assertTrue(cfs.json("list").toString().contains("\"sec\""), "the unauthorized destroy must not have run");

        // bound to 127.0.0.1 only: /proc/net/tcp lists the listening socket's local address
        String hexPort = String.format("%04X", port);
        List<String> listening = new ArrayList<>();
        for (String f : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(f))) {
                String[] c = line.trim().split("\\s+");
                if (c.length > 3 && c[1].endsWith(":" + hexPort) && c[3].equals("0A")) {
                    listening.add(f + " " + c[1]);
                }
            }
        }
        // one listening socket, on 127.0.0.1 (in tcp6 as the IPv4-mapped ::ffff:127.0.0.1)
        assertEquals(1, listening.size(), "control API sockets: " + listening);
        assertTrue(listening.get(0).equals("/proc/net/tcp 0100007F:" + hexPort)
                || listening.get(0).equals("/proc/net/tcp6 0000000000000000FFFF00000100007F:" + hexPort),
                "control API bound to a non-loopback address: " + listening);
        // and a non-loopback address of this host is refused
        String other = nonLoopbackAddress();
        if (other != null) {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(other, port), 3000);
                throw new AssertionError("the control API answered on " + other);
            } catch (IOException expected) {
                // refused
            }
        }
    }

    private static String nonLoopbackAddress() throws IOException {
        for (var ni : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            for (var a : java.util.Collections.list(ni.getInetAddresses())) {
                if (!a.isLoopbackAddress() && a instanceof java.net.Inet4Address) {
                    return a.getHostAddress();
                }
            }
        }
        return null;
    }

    @Test
    void namesAndSymlinksCannotEscapeThePoolOrTheMount() throws Exception {
        Map<String, String> poolBefore = listing(cfs.pool().getParent());
        for (String bad : new String[] {"..", "../etc", "a/b", "/etc", ".hidden", "x/../y", "a\u0000b", "%2e%2e", "a b",
            "\u00e9t\u00e9", "x".repeat(64), "-rf", "a@b"}) {
            String json = "{\"name\":" + quote(bad) + "}";
            HttpResponse<String> r = api("POST", "/v1/volumes", json);
            assertEquals(400, r.statusCode(), "create " + bad + ": " + r.body());
            r = api("POST", "/v1/snapshots", "{\"volume\":\"sec\",\"snapshot\":" + quote(bad) + "}");
            assertEquals(400, r.statusCode(), "snapshot " + bad + ": " + r.body());
            r = api("POST", "/v1/clones", "{\"source\":\"sec\",\"name\":" + quote(bad) + "}");
            assertEquals(400, r.statusCode(), "clone to " + bad + ": " + r.body());
            r = api("POST", "/v1/clones", "{\"source\":" + quote(bad) + ",\"name\":\"ok1\"}");
            assertTrue(r.statusCode() == 400 || r.statusCode() == 404, "clone from " + bad + ": " + r.body());
            if (List.of("../etc", "a/b", ".hidden", "-rf").contains(bad)) { // the launcher costs a JVM start each
                Proc.Result c = cfs.run("create", bad);
                assertEquals(2, c.exit(), c.describe());
            }
        }
        for (String path : new String[] {"/v1/datasets/..", "/v1/datasets/..%2F..%2Fetc", "/v1/datasets/%2Fetc",
            "/v1/datasets/sec%2F..", "/v1/datasets/.snapshots", "/v1/datasets/sec@..", "/v1/datasets/a%00b"}) {
            HttpResponse<String> r = api("DELETE", path, null);
            assertTrue(r.statusCode() == 400 || r.statusCode() == 404, "DELETE " + path + ": " + r.statusCode() + " " + r.body());
        }
        // raw request-line path tricks (HttpClient normalises nothing, but be explicit with a socket)
        for (String target : new String[] {"/v1/../v1/datasets", "/v1/datasets/../../../etc/passwd", "//v1/status",
            "/v1/status/../shutdown"}) {
            String reply = rawRequest("POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            int code = Integer.parseInt(reply.substring(9, 12));
            assertTrue(code >= 400 && code < 500, target + ": " + reply);
        }
        daemonStillUp();

        // a symlink to /etc inside a volume is just a symlink: stored, listed, snapshotted as such
        Path vol = mnt.resolve("sec");
        Path link = vol.resolve("etc-link");
        Files.createSymbolicLink(link, Path.of("/etc"));
        Files.createSymbolicLink(vol.resolve("up-link"), Path.of("../../../../.."));
        assertEquals(Path.of("/etc"), Files.readSymbolicLink(link));
        cfs.ok("snapshot", "sec@links");
        Path snap = mnt.resolve(".snapshots/sec@links");
        assertEquals(Path.of("/etc"), Files.readSymbolicLink(snap.resolve("etc-link")));
        assertEquals(Path.of("../../../../.."), Files.readSymbolicLink(snap.resolve("up-link")));
        cfs.ok("clone", "sec@links", "linkclone");
        assertEquals(Path.of("/etc"), Files.readSymbolicLink(mnt.resolve("linkclone/etc-link")));
        // writing "through" the symlink in a snapshot must not touch /etc, nor can one go up from the mount
        Proc.Result w = Proc.run(List.of("sh", "-c", "echo x > " + snap.resolve("newfile")), Map.of(), Duration.ofSeconds(30));
        assertNotEquals(0, w.exit());
        assertTrue(w.err().contains("Read-only file system"), w.describe());
        assertEquals(List.of(".snapshots", "linkclone", "sec"), listNames(mnt));
        assertFalse(Files.exists(mnt.resolve("sec/../../pool")) && Files.isSameFile(mnt.resolve("sec/.."), mnt.resolve("sec")));
        // the pool's directory gained only the pool's own files
        Map<String, String> poolAfter = listing(cfs.pool().getParent());
        poolAfter.keySet().removeIf(k -> poolBefore.containsKey(k) || k.startsWith("pool/") || k.startsWith("run"));
        assertEquals(Map.of(), poolAfter, "files appeared outside the pool");
        cfs.ok("destroy", "-r", "sec@links");
    }

    private static List<String> listNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Map<String, String> listing(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root, 1)) {
            s.filter(p -> !p.equals(root)).forEach(p -> m.put(root.relativize(p).toString(), ""));
        }
        return m;
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == '"' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private static String rawRequest(String request) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    // --- §7 hostile input

    @Test
    void fuzzedApiRequestsGetClear4xxAndTheDaemonStaysUp() throws Exception {
        long seed = Long.getLong("clonefs.fuzz.seed", System.nanoTime());
        int n = Integer.getInteger("clonefs.fuzz.requests", 400);
        System.out.println("API fuzz: seed " + seed + " (-Dclonefs.fuzz.seed=" + seed + ")");
        Random r = new Random(seed);
        String[] methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
        String[] paths = {"/v1/volumes", "/v1/snapshots", "/v1/clones", "/v1/datasets", "/v1/datasets/fz",
            "/v1/datasets/sec@x", "/v1/space", "/v1/space/history", "/v1/status", "/v1/sync", "/", "/v1", "/v1/", "/v2/volumes",
            "/v1/volumes/extra", "/v1/datasets/", "/v1/%00", "/v1/datasets/" + "a".repeat(5000), "/v1/pg/servers",
            "/v1/datasets/fz?recursive=maybe", "/v1/tokens", "/v1/tokens/nosuch", "/v1/tokens/"};
        String[] contentTypes = {"application/json", "text/plain", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", "application/json; charset=latin1", null};
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String method = methods[r.nextInt(methods.length)];
            String path = paths[r.nextInt(paths.length)];
            String body = randomBody(r);
            String what = method + " " + path + " body=" + abbreviate(body);
            int code;
            String ct = contentTypes[r.nextInt(contentTypes.length)];
            try {
                try {
                    code = send(method, path, body, "Bearer " + token, ct).statusCode();
                } catch (IOException e) {
                    if (!String.valueOf(e.getMessage()).contains("received no bytes")) {
                        throw e;
                    }
                    // the server closed a kept-alive connection after its last answer (it does so when a
                    // request body was left unread); HTTP clients retry on a new connection
                    code = send(method, path, body, "Bearer " + token, ct).statusCode();
                }
            } catch (IOException e) {
                if (body != null && body.length() > ControlServer.MAX_BODY) {
                    continue; // the server answered 400 after 16 MiB and closed while we were still sending
                }
                bad.add(what + " -> " + e);
                continue;
            }
            statuses.merge(code, 1, Integer::sum);
            boolean ok = (code >= 400 && code < 500) || code == 200 || code == 201
                    || (code == 202 && path.equals("/v1/shutdown"))
                    // the root sends a browser to the console
                    || (code == 303 && path.equals("/") && (method.equals("GET") || method.equals("HEAD")));
            if (!ok) {
                bad.add(what + " -> " + code);
            }
        }
        // the classics, once each
        String big = "{\"name\":\"" + "x".repeat(10 << 20) + "\"}";
        for (String body : new String[] {"", "{", "}", "null", "[]", "\"name\"", "{\"name\":null}", "{\"name\":12}",
            "{\"name\":[\"a\"]}", "{\"name\":{\"$gt\":\"\"}}", "[".repeat(100_000), "{\"a\":".repeat(20_000),
            "{\"name\":\"ok\",\"name\":\"dup\"}", "\u0000\u0001\u0002", "{\"name\":\"\\ud800\"}", "1e999999999",
            "{\"source\":\"sec\",\"name\":\"\"}", big}) {
            for (String path : new String[] {"/v1/volumes", "/v1/snapshots", "/v1/clones"}) {
                try {
                    int code;
                    try {
                        code = api("POST", path, body).statusCode();
                    } catch (IOException e) {
                        if (!String.valueOf(e.getMessage()).contains("received no bytes")) {
                            throw e;
                        }
                        code = api("POST", path, body).statusCode();
                    }
                    statuses.merge(code, 1, Integer::sum);
                    // {"name":12} is coerced to the valid name "12" (Jackson's scalar coercion): accepted
                    boolean coerced = body.equals("{\"name\":12}") && code == 201;
                    if (code != 400 && code != 404 && code != 409 && !coerced) {
                        bad.add("POST " + path + " " + abbreviate(body) + " -> " + code);
                    }
                } catch (IOException e) {
                    if (body.length() <= 64 * 1024) {
                        bad.add("POST " + path + " " + abbreviate(body) + " -> " + e);
                    }
                }
            }
        }
        System.out.println("API fuzz: HTTP statuses " + statuses);
        assertEquals(List.of(), bad, "seed " + seed);
        daemonStillUp();
        assertEquals(0, cfs.run("fsck").exit());
    }

    private static String randomBody(Random r) {
        switch (r.nextInt(10)) {
            case 0:
                return null;
            case 1: {
                byte[] b = new byte[r.nextInt(200)];
                r.nextBytes(b);
                return new String(b, StandardCharsets.ISO_8859_1);
            }
            case 2:
                return "{\"name\":\"fz" + r.nextInt(5) + "\"}";
            case 3:
                return "{\"volume\":\"" + (r.nextBoolean() ? "sec" : "fz" + r.nextInt(5)) + "\",\"snapshot\":\"s" + r.nextInt(5) + "\"}";
            case 4:
                return "{\"source\":\"" + (r.nextBoolean() ? "sec" : "sec@s" + r.nextInt(5)) + "\",\"name\":\"fz" + r.nextInt(5) + "\"}";
            case 5: {
                String valid = "{\"name\":\"fz1\",\"size\":\"" + r.nextLong() + "T\",\"duration\":\"-5h\"}";
                return valid.substring(0, r.nextInt(valid.length()));
            }
            case 6:
                return "{\"name\":" + (r.nextBoolean() ? "1e309" : r.nextBoolean() ? "true" : "-0") + ",\"size\":-1,\"ttl\":\"PT-1S\"}";
            case 7:
                return "x".repeat(r.nextInt(3) == 0 ? ControlServer.MAX_BODY + 1000 : 70_000);
            case 8:
                return "{\"scope\":\"" + new String[] {"read", "branch", "admin", "root", ""}[r.nextInt(5)] + "\",\"ttl\":\""
                        + new String[] {"1s", "7d", "-1d", "0s", "forever"}[r.nextInt(5)] + "\",\"name\":\"fz" + r.nextInt(1000) + "\"}";
            default:
                return "[".repeat(r.nextInt(5000)) + "]".repeat(r.nextInt(5000));
        }
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "(none)";
        }
        return s.length() > 60 ? s.substring(0, 60) + "...(" + s.length() + " chars)" : s;
    }

    @Test
    void fuzzedCliArgumentsGetUsageErrorsNotStackTraces() throws Exception {
        long seed = Long.getLong("clonefs.fuzz.seed", System.nanoTime());
        Random r = new Random(seed);
        String[] words = {"init", "mount", "umount", "create", "snapshot", "clone", "destroy", "list", "space", "fsck",
            "--json", "-r", "--recursive", "--block-size", "7Q", "-1", "99999999999999999999T", "0", "3", "1.5G",
            "--port", "70000", "abc", "--timeout", "-5", "x@", "@y", "a@b@c", "", " ", "../x", "--pool", "--nope",
            "-", "--", "--foreground", "\u0000", "sec@s", "sec", "very".repeat(30)};
        List<String> bad = new ArrayList<>();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        int runs = 0;
        try {
            for (int i = 0; i < 150; i++) {
                List<String> args = new ArrayList<>();
                args.add(words[r.nextInt(10)]);
                for (int k = r.nextInt(4); k > 0; k--) {
                    args.add(words[r.nextInt(words.length)]);
                }
                if (args.contains("--foreground") || args.get(0).equals("mount") || args.get(0).equals("umount")
                        || args.get(0).equals("init") && args.size() > 1 && !args.contains("--block-size")) {
                    continue; // would really mount, unmount or create pools: covered by CliErrorsIT
                }
                if (args.get(0).equals("init")) {
                    args.add(1, ws.root().resolve("fuzzpool" + i).toString());
                }
                args.add(0, "--pool");
                args.add(1, ws.root().resolve("no-such-pool").toString());
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                int code;
                try {
                    code = io.clonefs.cli.Main.run(args.toArray(new String[0]));
                } catch (RuntimeException | Error e) {
                    code = -1;
                    err.writeBytes(e.toString().getBytes(StandardCharsets.UTF_8));
                } finally {
                    System.setOut(oldOut);
                    System.setErr(oldErr);
                }
                runs++;
                String e = err.toString(StandardCharsets.UTF_8).strip();
                boolean help = code == 0 && out.size() > 0;
                boolean clean = code >= 2 && code <= 6 && e.startsWith("clonefs: ") && !e.contains("\n")
                        && !e.contains("Exception") && !e.contains("\tat ");
                if (!help && !clean && !(code == 0 && (args.contains("list") || args.contains("space")))) {
                    bad.add(args + " -> exit " + code + ": " + abbreviate(e));
                }
            }
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        System.out.println("CLI fuzz: " + runs + " argument lists, seed " + seed);
        assertEquals(List.of(), bad, "seed " + seed);
        // and a few through the real launcher
        for (String[] args : new String[][] {{"frobnicate"}, {"create"}, {"init", ws.root().resolve("p9").toString(),
            "--block-size", "7Q"}, {"init", ws.root().resolve("p8").toString(), "--block-size", "3"},
            {"clone", "a", "b", "c"}, {"mount", cfs.pool().toString(), mnt.toString(), "--port", "70000"}}) {
            Proc.Result res = cfs.run(args);
            assertEquals(2, res.exit(), res.describe());
            assertTrue(res.err().strip().startsWith("clonefs: ") && !res.err().contains("Exception"), res.describe());
        }
        daemonStillUp();
    }
}
