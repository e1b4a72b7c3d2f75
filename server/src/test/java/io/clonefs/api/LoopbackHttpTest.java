package io.clonefs.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The control API's HTTP/1.1 client against hand-written replies: framing, errors, deadline. */
class LoopbackHttpTest {
    private static LoopbackHttp.Reply parse(String reply) throws IOException {
        return LoopbackHttp.read(new ByteArrayInputStream(reply.getBytes(StandardCharsets.ISO_8859_1)), "GET");
    }

    @Test
    void framesByLengthChunksOrEndOfStream() throws IOException {
        LoopbackHttp.Reply r = parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-length: 4\r\n\r\n{}{}extra");
        assertEquals(200, r.status());
        assertEquals("{}{}", new String(r.body(), StandardCharsets.UTF_8));

        r = parse("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\na;ext=1\r\n\":1234567}\r\n0\r\nX-Trailer: 1\r\n\r\n");
        assertEquals(201, r.status());
        assertEquals("{\"a\":1234567}", new String(r.body(), StandardCharsets.UTF_8));

        r = parse("HTTP/1.0 404 Not Found\nContent-Type: application/json\n\n{\"code\":\"not_found\"}");
        assertEquals(404, r.status());
        assertEquals("{\"code\":\"not_found\"}", new String(r.body(), StandardCharsets.UTF_8));

        r = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
        assertEquals(204, r.status());
        assertArrayEquals(new byte[0], r.body());
    }

    @Test
    void cutOrForeignRepliesAreErrors() {
        assertThrows(EOFException.class, () -> parse(""));
        assertThrows(EOFException.class, () -> parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"));
        assertThrows(EOFException.class, () -> parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}"));
        assertThrows(IOException.class, () -> parse("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
        assertThrows(IOException.class, () -> parse("HTTP/1.1 abc OK\r\n\r\n"));
        assertThrows(IOException.class, () -> parse("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"));
    }

    @Test
    void headerValuesCannotInjectLines() {
        HttpJsonClient c = new HttpJsonClient(1, "tok\r\nX-Evil: 1", "test");
        assertThrows(IllegalArgumentException.class, () -> c.call("GET", "status", null, Api.Ok.class, Duration.ofSeconds(1)));
    }

    /** A one-shot server: reads the request head (and a Content-Length body), answers what {@code answer} makes of it. */
    private static CompletableFuture<String> serveOnce(ServerSocket ss, Function<String, String> answer) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = ss.accept()) {
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int c = in.read();
                    if (c < 0) {
                        break;
                    }
                    head.append((char) c);
                }
                String h = head.toString();
                int len = 0;
                for (String line : h.split("\r\n")) {
                    if (line.toLowerCase().startsWith("content-length:")) {
                        len = Integer.parseInt(line.substring(15).trim());
                    }
                }
                String request = h + new String(in.readNBytes(len), StandardCharsets.UTF_8);
                String reply = answer.apply(request);
                if (reply != null) {
                    OutputStream out = s.getOutputStream();
                    out.write(reply.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
                return request;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void sendsTokenJsonBodyAndMapsErrorReplies() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            HttpJsonClient c = new HttpJsonClient(ss.getLocalPort(), "secret", "the test server");
            CompletableFuture<String> req = serveOnce(ss, r -> "HTTP/1.1 201 Created\r\nContent-Length: 11\r\n\r\n{\"ok\":true}");
            assertTrue(c.call("POST", "volumes", new Api.CreateVolume("v 1"), Api.Ok.class, Duration.ofSeconds(10)).ok());
            String sent = req.get();
            assertTrue(sent.startsWith("POST /v1/volumes HTTP/1.1\r\n"), sent);
            assertTrue(sent.contains("\r\nAuthorization: Bearer secret\r\n"), sent);
            assertTrue(sent.contains("\r\nContent-Type: application/json\r\n"), sent);
            assertTrue(sent.endsWith("\r\n\r\n{\"name\":\"v 1\"}"), sent);

            req = serveOnce(ss, r -> "HTTP/1.1 404 Not Found\r\nContent-Length: 44\r\n\r\n{\"code\":\"not_found\",\"message\":\"no such pig\"}");
            ClonefsException.NotFound nf = assertThrows(ClonefsException.NotFound.class, () ->
                    c.call("DELETE", "datasets/" + HttpJsonClient.segment("a b") + "?recursive=true", null, Api.Ok.class,
                            Duration.ofSeconds(10)));
            assertEquals("no such pig", nf.getMessage());
            sent = req.get();
            assertTrue(sent.startsWith("DELETE /v1/datasets/a%20b?recursive=true HTTP/1.1\r\n"), sent);
            assertTrue(sent.contains("\r\nContent-Length: 0\r\n"), sent);

            serveOnce(ss, r -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnope!");
            ControlException bad = assertThrows(ControlException.class, () -> c.call("GET", "status", null, Api.Ok.class,
                    Duration.ofSeconds(10)));
            assertEquals(ErrorKind.BAD_REPLY, bad.kind());

            serveOnce(ss, r -> "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad");
            ControlException unknown = assertThrows(ControlException.class, () -> c.call("GET", "status", null, Api.Ok.class,
                    Duration.ofSeconds(10)));
            assertEquals("http_502", unknown.code());
        }
    }

    @Test
    void aSilentServerTimesOutAndAClosedPortIsUnreachable() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
            HttpJsonClient c = new HttpJsonClient(port, "secret", "the test server");
            CompletableFuture<String> req = serveOnce(ss, r -> {
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
            long t0 = System.nanoTime();
            ControlException e = assertThrows(ControlException.class, () -> c.call("GET", "status", null, Api.Ok.class,
                    Duration.ofMillis(300)));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(ErrorKind.UNREACHABLE, e.kind());
            assertTrue(e.getCause() instanceof SocketTimeoutException, String.valueOf(e.getCause()));
            assertTrue(ms >= 250 && ms < 1400, ms + " ms");
            req.get();
        }
        HttpJsonClient c = new HttpJsonClient(port, "secret", "the test server");
        ControlException e = assertThrows(ControlException.class, () -> c.call("GET", "status", null, Api.Ok.class,
                Duration.ofSeconds(5)));
        assertEquals(ErrorKind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().startsWith("the test server does not answer: java.net.ConnectException"), e.getMessage());
    }
}
