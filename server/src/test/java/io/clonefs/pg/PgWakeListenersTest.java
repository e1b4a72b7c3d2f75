package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.pg.process.Postgres;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The listeners on suspended servers' ports: every connection is handed over alive, a taken port
 * is refused, the port is free once {@code close} returns, and can be listened on again. (Whether
 * a connection still in the backlog at the close is handed over depends on timing here; the
 * wake ITs exercise that with real clients.)
 */
class PgWakeListenersTest {
    @Test
    void closeHandsOverTheBacklogAndFreesThePort() throws Exception {
        List<SocketChannel> got = new CopyOnWriteArrayList<>();
        int port = Postgres.freePort();
        try (PgWakeListeners l = new PgWakeListeners((name, c) -> {
            assertEquals("b1", name);
            got.add(c);
        })) {
            l.listen("b1", port);
            assertTrue(l.listening("b1"));
            assertFalse(Postgres.portFree(port));
            assertThrows(IOException.class, () -> {
                try (PgWakeListeners other = new PgWakeListeners((n, c) -> { })) {
                    other.listen("x", port);
                }
            }, "a taken port is refused");
            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                clients.add(new Socket(InetAddress.getLoopbackAddress(), port));
            }
            l.close("b1");
            assertFalse(l.listening("b1"));
            assertTrue(Postgres.portFree(port), "the port is free once close returns");
            assertEquals(20, got.size(), "every connection that got through the handshake is handed over");
            // the handed-over connections are alive: bytes written by the daemon reach the client
            for (int i = 0; i < got.size(); i++) {
                got.get(i).write(ByteBuffer.wrap(new byte[] {(byte) 'N'}));
            }
            for (Socket s : clients) {
                s.setSoTimeout(5000);
                InputStream in = s.getInputStream();
                assertEquals('N', in.read());
                s.close();
            }
            for (SocketChannel c : got) {
                c.close();
            }
            l.listen("b1", port); // and again, as after a failed wake
            assertTrue(l.listening("b1"));
        }
        assertTrue(Postgres.portFree(port), "closing all frees every port");
    }
}
