package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;
import io.clonefs.api.LoopbackHttp;
import io.clonefs.api.Tls;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoped tokens and the TLS listener of a real {@link ControlServer} over a pool that only
 * answers: keys and certificates made by the {@code openssl} command (RSA and EC, PKCS#8).
 */
class ScopedTlsTest {
    @TempDir
    Path dir;
    private ControlServer server;

    private final PoolService pool = new PoolService() {
        @Override
        public Api.Datasets list() {
            return new Api.Datasets(List.of(), List.of());
        }

        @Override
        public Api.Created createVolume(String name) {
            return new Api.Created(name, 1);
        }

        @Override
        public Api.Created snapshot(String volume, String snapshot) {
            return new Api.Created(volume + "@" + snapshot, 2);
        }

        @Override
        public Api.Cloned cloneVolume(String source, String name) {
            throw new ClonefsException.NotFound("no " + source);
        }

        @Override
        public Api.Destroyed destroy(String name, boolean recursive) {
            return new Api.Destroyed(name, recursive, 1);
        }

        @Override
        public Api.Space space() {
            return new Api.Space(8192, 1, 2, 3, 4, 5, 6);
        }

        @Override
        public Api.Fsck fsck() {
            throw new IllegalStateException("not here");
        }

        @Override
        public void sync() {
        }

        @Override
        public boolean remote() {
            return false;
        }

        @Override
        public void close() {
        }
    };

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Runs openssl in {@code dir}; skips the test when there is no openssl. */
    private void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no openssl: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    /** A self-signed certificate for 127.0.0.1 and localhost; {@code keyType} e.g. {@code ec} or {@code rsa:2048}. */
    private void selfSigned(String name, String keyType, String... keyOpts) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("req", "-x509", "-newkey", keyType));
        a.addAll(List.of(keyOpts));
        a.addAll(List.of("-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"));
        openssl(a.toArray(String[]::new));
    }

    private ControlServer start(ControlServer.Listen listen) throws IOException {
        ControlServer s = new ControlServer(pool, "pooltoken", 0, listen,
                () -> new Api.Status("/pool", "/mnt", ProcessHandle.current().pid(), "dev"), () -> { });
        s.events(EventLog.open(dir));
        s.tokens(TokenStore.open(dir));
        s.start();
        return s;
    }

    private static int port(String url) {
        return Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
    }

    @Test
    void tlsWithRsaAndEcKeysAndNoPlainHttpOnThatPort() throws Exception {
        selfSigned("rsa", "rsa:2048");
        selfSigned("ec", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        assertTrue(Files.readString(dir.resolve("ec.key")).contains("-----BEGIN PRIVATE KEY-----"), "openssl 3 writes PKCS#8");
        assertEquals("RSA", Tls.privateKey(dir.resolve("rsa.key")).getAlgorithm());
        assertEquals("EC", Tls.privateKey(dir.resolve("ec.key")).getAlgorithm());
        // the old formats are refused with the command that converts them
        openssl("pkey", "-in", "rsa.key", "-traditional", "-out", "rsa1.key");
        ClonefsException old = assertThrows(ClonefsException.InvalidArgument.class, () -> Tls.privateKey(dir.resolve("rsa1.key")));
        assertTrue(old.getMessage().contains("openssl pkcs8 -topk8"), old.getMessage());

        for (String kind : new String[] {"rsa", "ec"}) {
            Path crt = dir.resolve(kind + ".crt");
            server = start(ControlServer.listen("127.0.0.1:0", crt, dir.resolve(kind + ".key")));
            String url = server.listenUrl();
            assertTrue(url.startsWith("https://127.0.0.1:"), url);
            DaemonClient c = DaemonClient.remote(url, "pooltoken", null, crt.toString());
            assertEquals(ProcessHandle.current().pid(), c.status().pid());
            assertEquals("v", c.createVolume("v").name());
            // the loopback port still speaks plain HTTP
            assertEquals("v2", new DaemonClient(new DaemonInfo(1, server.port(), "/pool", "/mnt", "", "dev"), "pooltoken")
                    .createVolume("v2").name());
            // plain HTTP against the TLS port gets no HTTP answer
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port(url))) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write(("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer pooltoken\r\n"
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                byte[] got;
                try {
                    got = in.readNBytes(64);
                } catch (IOException reset) {
                    got = new byte[0];
                }
                assertFalse(new String(got, StandardCharsets.ISO_8859_1).contains("HTTP/1."), "answered plain HTTP");
            }
            ControlException plain = assertThrows(ControlException.class,
                    () -> new io.clonefs.api.HttpJsonClient(new LoopbackHttp.Endpoint("127.0.0.1", port(url), null), "pooltoken",
                            "plain").call("GET", "status", null, Api.Status.class, Duration.ofSeconds(10)));
            assertEquals(ErrorKind.UNREACHABLE, plain.kind());
            // a client that does not trust the certificate does not talk to it
            ControlException untrusted = assertThrows(ControlException.class,
                    () -> DaemonClient.remote(url, "pooltoken", null, null));
            assertEquals(ErrorKind.UNREACHABLE, untrusted.kind());
            server.close();
            server = null;
        }
    }

    @Test
    void aNonLoopbackAddressNeedsTls() {
        ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class,
                () -> ControlServer.listen("0.0.0.0:7443", null, null));
        assertTrue(e.getMessage().contains("without TLS"), e.getMessage());
        assertThrows(ClonefsException.InvalidArgument.class, () -> ControlServer.listen("[::]:7443", null, null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> ControlServer.listen("127.0.0.1", null, null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> ControlServer.listen("127.0.0.1:x", null, null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> ControlServer.listen("127.0.0.1:1", dir.resolve("c"), null));
        assertNull(ControlServer.listen(null, null, null));
        assertEquals(null, ControlServer.listen("127.0.0.1:0", null, null).tls());
        // and a client does not send a token in plain HTTP beyond loopback
        ControlException c = assertThrows(ControlException.class,
                () -> DaemonClient.remote("http://192.0.2.1:7443", "t", null, null));
        assertTrue(c.getMessage().contains("plain HTTP"), c.getMessage());
    }

    @Test
    void scopesAreEnforcedWithA403AndAnEvent() throws Exception {
        server = start(null);
        server.extend("pg", r -> new ControlServer.Reply(200, new Api.Ok(true)),
                (method, path) -> path.equals("/branches") ? Scope.BRANCH : Scope.ADMIN);
        DaemonClient admin = new DaemonClient(new DaemonInfo(1, server.port(), "/pool", "/mnt", "", "dev"), "pooltoken");
        Api.TokenCreated read = admin.http().call("POST", "tokens", new Api.CreateToken("read", null, "r"),
                Api.TokenCreated.class, Duration.ofSeconds(10));
        Api.TokenCreated branch = admin.http().call("POST", "tokens", new Api.CreateToken("branch", "1h", "b"),
                Api.TokenCreated.class, Duration.ofSeconds(10));
        DaemonClient r = new DaemonClient(new DaemonInfo(1, server.port(), "/pool", "/mnt", "", "dev"), read.token());
        DaemonClient b = new DaemonClient(new DaemonInfo(1, server.port(), "/pool", "/mnt", "", "dev"), branch.token());

        assertEquals(0, r.list().volumes().size());
        assertEquals(8192, r.space().blockSize());
        ControlException e = assertThrows(ControlException.class, () -> r.createVolume("x"));
        assertEquals(ErrorKind.FORBIDDEN, e.kind());
        assertEquals("forbidden", e.code());
        assertTrue(e.getMessage().contains("needs admin"), e.getMessage());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class, () -> r.destroy("x", false)).kind());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class, r::shutdown).kind());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class,
                () -> r.http().call("GET", "tokens", null, Object.class, Duration.ofSeconds(10))).kind());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class,
                () -> r.http().call("POST", "pg/branches", null, Object.class, Duration.ofSeconds(10))).kind());
        // branch: pg branches, nothing else that changes state
        assertTrue(b.http().call("POST", "pg/branches", null, Api.Ok.class, Duration.ofSeconds(10)).ok());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class,
                () -> b.http().call("POST", "pg/init", null, Object.class, Duration.ofSeconds(10))).kind());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class, () -> b.createVolume("x")).kind());
        assertEquals(ErrorKind.FORBIDDEN, assertThrows(ControlException.class,
                () -> b.http().call("POST", "tokens", new Api.CreateToken("admin", null, null), Object.class,
                        Duration.ofSeconds(10))).kind());

        EventLog.Page page = admin.events(0, 100);
        List<EventLog.Event> refused = page.events().stream().filter(ev -> ev.type().equals("forbidden")).toList();
        assertEquals(8, refused.size(), page.toString());
        assertEquals("r", refused.get(0).name());
        assertEquals("token", refused.get(0).kind());
        assertEquals("POST", refused.get(0).details().get("method"));
        assertEquals("/v1/volumes", refused.get(0).details().get("path"));
        assertEquals("read", refused.get(0).details().get("scope"));
        assertEquals(read.id(), refused.get(0).details().get("id"));

        // revoked: 401 from then on
        admin.http().call("DELETE", "tokens/" + read.id(), null, Api.TokenView.class, Duration.ofSeconds(10));
        assertEquals(ErrorKind.UNAUTHORIZED, assertThrows(ControlException.class, r::list).kind());
        // expired: 401 naming it
        Api.TokenCreated shortLived = admin.http().call("POST", "tokens", new Api.CreateToken("admin", "1s", "brief"),
                Api.TokenCreated.class, Duration.ofSeconds(10));
        DaemonClient s = new DaemonClient(new DaemonInfo(1, server.port(), "/pool", "/mnt", "", "dev"), shortLived.token());
        assertEquals(0, s.list().volumes().size());
        Thread.sleep(1100);
        ControlException expired = assertThrows(ControlException.class, s::list);
        assertEquals(ErrorKind.UNAUTHORIZED, expired.kind());
        assertTrue(expired.getMessage().contains("expired"), expired.getMessage());
        // the pool's token stays admin
        assertEquals(2, admin.http().callForList("GET", "tokens", null, Api.TokenView.class, Duration.ofSeconds(10)).size());
    }
}
