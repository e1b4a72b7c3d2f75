package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;
import io.clonefs.base.ClonefsException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The control API against a fake pool: routes, token, error mapping, shutdown. */
class ControlServerTest {
    private final List<String> calls = new ArrayList<>();
    private final CountDownLatch shutdown = new CountDownLatch(1);
    private ControlServer server;
    private DaemonClient client;

    private final PoolService fake = new PoolService() {
        @Override
        public Api.Datasets list() {
            calls.add("list");
            return new Api.Datasets(List.of(new Api.VolumeView("pg", null, "2025-01-01T00:00:00Z", 8192, 4096)),
                    List.of(new Api.SnapshotView("pg@s", "pg", "2025-01-01T00:00:01Z", 8192, 0, List.of("c"))));
        }

        @Override
        public Api.Created createVolume(String name) {
            calls.add("create " + name);
            if (name.equals("taken")) {
                throw new ClonefsException.AlreadyExists("volume 'taken' already exists");
            }
            return new Api.Created(name, 5);
        }

        @Override
        public Api.Created snapshot(String volume, String snapshot) {
            calls.add("snapshot " + volume + "@" + snapshot);
            throw new ClonefsException.NotFound("volume '" + volume + "' does not exist");
        }

        @Override
        public Api.Cloned cloneVolume(String source, String name) {
            calls.add("clone " + source + " " + name);
            throw new ClonefsException.NoSpace("pool is full", null);
        }

        @Override
        public Api.Destroyed destroy(String name, boolean recursive) {
            calls.add("destroy " + name + " " + recursive);
            if (!recursive) {
                throw new ClonefsException.Conflict("snapshot '" + name + "' has clones");
            }
            return new Api.Destroyed(name, true, 1);
        }

        @Override
        public Api.Space space() {
            calls.add("space");
            return new Api.Space(8192, 1, 2, 3, 4, 5, 6);
        }

        @Override
        public Api.Fsck fsck() {
            throw new IllegalStateException("boom");
        }

        @Override
        public void sync() {
            calls.add("sync");
        }

        @Override
        public boolean remote() {
            return false;
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws Exception {
        server = new ControlServer(fake, "secret", 0,
                () -> new Api.Status("/pool", "/mnt", ProcessHandle.current().pid(), "dev"), shutdown::countDown);
        server.start();
        client = new DaemonClient(new DaemonInfo(ProcessHandle.current().pid(), server.port(), "/pool", "/mnt", "", "dev", null, "writeback"),
                "secret");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void routesAndTypedErrorsRoundTrip() {
        assertTrue(client.answers());
        assertEquals("pg", client.list().volumes().get(0).name());
        assertEquals(List.of("c"), client.list().snapshots().get(0).clones());
        assertEquals("v1", client.createVolume("v1").name());
        assertThrows(ClonefsException.AlreadyExists.class, () -> client.createVolume("taken"));
        assertThrows(ClonefsException.NotFound.class, () -> client.snapshot("nope", "s"));
        assertThrows(ClonefsException.NoSpace.class, () -> client.cloneVolume("pg@s", "c2"));
        assertThrows(ClonefsException.Conflict.class, () -> client.destroy("pg@s", false));
        assertEquals("pg@s", client.destroy("pg@s", true).name());
        assertEquals(8192, client.space().blockSize());
        ControlException e = assertThrows(ControlException.class, () -> client.fsck());
        assertEquals("internal", e.code());
        client.sync();
        assertTrue(calls.contains("destroy pg@s true"), calls.toString());
        assertTrue(calls.contains("sync"), calls.toString());
    }

    @Test
    void wrongOrMissingTokenIs401() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (String auth : new String[] {null, "Bearer wrong", "secret"}) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/space"));
            if (auth != null) {
                b.header("Authorization", auth);
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode());
            assertTrue(r.body().contains("\"unauthorized\""), r.body());
        }
        assertTrue(calls.isEmpty(), calls.toString());
        DaemonClient bad = new DaemonClient(client.info(), "wrong");
        assertThrows(ControlException.class, bad::space);
    }

    @Test
    void badRequestsAre4xx() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/volumes"))
                .header("Authorization", "Bearer secret").POST(HttpRequest.BodyPublishers.ofString("{not json")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode(), r.body());
        r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/nothing"))
                .header("Authorization", "Bearer secret").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode(), r.body());
        r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/space"))
                .header("Authorization", "Bearer secret").DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, r.statusCode(), r.body());
    }

    @Test
    void extensionsGetTheirPrefixWithTokenAndErrorMapping() throws Exception {
        server.extend("ext", req -> {
            if (req.path().equals("/missing")) {
                throw new ClonefsException.NotFound("no such thing");
            }
            return new ControlServer.Reply(201, java.util.Map.of("method", req.method(), "path", req.path(),
                    "recursive", req.flag("recursive"), "name", req.body(Api.CreateVolume.class).name()));
        });
        HttpClient http = HttpClient.newHttpClient();
        URI base = URI.create("http://127.0.0.1:" + server.port() + "/v1/ext");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/a/b?recursive=true"))
                .header("Authorization", "Bearer secret").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"path\":\"/a/b\"") && r.body().contains("\"recursive\":true"), r.body());
        r = http.send(HttpRequest.newBuilder(URI.create(base + "/missing")).header("Authorization", "Bearer secret")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode(), r.body());
        r = http.send(HttpRequest.newBuilder(URI.create(base + "/a")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode(), r.body());
    }

    @Test
    void shutdownAnswersThenStops() throws Exception {
        client.shutdown();
        assertTrue(shutdown.await(5, TimeUnit.SECONDS));
    }
}
