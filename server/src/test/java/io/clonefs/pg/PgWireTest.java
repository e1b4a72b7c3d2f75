package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The protocol bits the daemon speaks to a client of a server that could not be woken. */
class PgWireTest {
    @Test
    void errorResponseIsFramedAsPostgresFramesIt() {
        byte[] m = PgWire.errorResponse("57P03", "cannot start");
        assertEquals('E', m[0]);
        int len = ByteBuffer.wrap(m, 1, 4).getInt();
        assertEquals(m.length - 1, len, "the length counts itself and the body, not the type byte");
        String body = new String(m, 5, m.length - 5, StandardCharsets.UTF_8);
        assertEquals("SFATAL\0VFATAL\0C57P03\0Mcannot start\0\0", body);
        // a NUL in the message would end the field early: it is replaced
        String withNul = new String(PgWire.errorResponse("57P03", "a\0b"), StandardCharsets.UTF_8);
        assertTrue(withNul.contains("Ma b\0\0"), withNul);
    }

    @Test
    void encryptionRequestsAreDeclinedBeforeTheStartupIsRead() throws IOException {
        ByteArrayOutputStream client = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(client);
        d.writeInt(8);
        d.writeInt(PgWire.GSSENC_REQUEST);
        d.writeInt(8);
        d.writeInt(PgWire.SSL_REQUEST);
        byte[] params = "user\0postgres\0database\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
        d.writeInt(8 + params.length);
        d.writeInt(PgWire.PROTOCOL_3);
        d.write(params);
        ByteArrayOutputStream server = new ByteArrayOutputStream();
        PgWire.refuse(new ByteArrayInputStream(client.toByteArray()), server, "no");
        byte[] out = server.toByteArray();
        assertEquals('N', out[0]);
        assertEquals('N', out[1]);
        byte[] rest = new byte[out.length - 2];
        System.arraycopy(out, 2, rest, 0, rest.length);
        assertArrayEquals(PgWire.errorResponse(PgWire.CANNOT_CONNECT_NOW, "no"), rest);
    }

    @Test
    void aCancelRequestGetsNoAnswerAndGarbageIsRefused() throws IOException {
        ByteArrayOutputStream cancel = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(cancel);
        d.writeInt(16);
        d.writeInt(PgWire.CANCEL_REQUEST);
        d.writeInt(1234);
        d.writeInt(5678);
        ByteArrayOutputStream server = new ByteArrayOutputStream();
        PgWire.refuse(new ByteArrayInputStream(cancel.toByteArray()), server, "no");
        assertEquals(0, server.size());

        byte[] http = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThrows(IOException.class, () -> PgWire.readStartup(new ByteArrayInputStream(http), new ByteArrayOutputStream()));
        assertThrows(IOException.class, () -> PgWire.readStartup(new ByteArrayInputStream(new byte[3]), new ByteArrayOutputStream()));
    }

    /** The real PostgreSQL JDBC driver (which asks for SSL first) reports the reason, not a reset connection. */
    @Test
    void jdbcShowsTheReason() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = listener.accept()) {
                    PgWire.refuse(s.getInputStream(), s.getOutputStream(), "clonefs could not start 'b1': disk full");
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            p.setProperty("sslmode", "prefer");
            p.setProperty("connectTimeout", "10");
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + listener.getLocalPort() + "/postgres", p).close());
            t.join(10_000);
            assertTrue(e.getMessage().contains("clonefs could not start 'b1': disk full"), e.getMessage());
            assertEquals("57P03", e.getSQLState());
        }
    }

    @Test
    void clientBackendsAreToldFromAuxiliaryProcesses() {
        for (String client : new String[] {
            "postgres: b1: postgres postgres 127.0.0.1(41234) idle",
            "postgres: postgres app [local] SELECT",
            "postgres: b1: postgres postgres 127.0.0.1(41234) authentication",
            "postgres: b1: walsender replicator 127.0.0.1(5000) streaming 0/3000148",
            "/usr/lib/postgresql/15/bin/postgres -D /mnt/b1/data -p 54400", // forked, title not set yet
        }) {
            assertTrue(PgBackends.isClient(client), client);
        }
        for (String aux : new String[] {
            "postgres: b1: checkpointer ", "postgres: b1: background writer ", "postgres: b1: walwriter ",
            "postgres: b1: autovacuum launcher ", "postgres: b1: autovacuum worker postgres",
            "postgres: b1: logical replication launcher ", "postgres: b1: archiver last was 000000010000000000000001",
            "postgres: b1: startup recovering 000000010000000000000002", "postgres: b1: walreceiver streaming 0/3000148",
            "postgres: b1: parallel worker for PID 4242", "postgres: checkpointer", "",
        }) {
            assertFalse(PgBackends.isClient(aux), aux);
        }
    }
}
