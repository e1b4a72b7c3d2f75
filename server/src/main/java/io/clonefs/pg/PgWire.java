package io.clonefs.pg;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The few bits of the PostgreSQL frontend/backend protocol (version 3) the daemon speaks itself,
 * to a client that connected to a suspended server that could not be woken: it answers the
 * client's {@code SSLRequest} and {@code GSSENCRequest} with {@code 'N'} (no encryption), reads
 * its {@code StartupMessage}, and replies with a FATAL {@code ErrorResponse} naming the reason, so
 * that the client prints that reason instead of "connection reset". Everything else the daemon
 * does with a client's connection is copying bytes ({@link PgProxy}).
 */
final class PgWire {
    static final int PROTOCOL_3 = 196608;
    static final int SSL_REQUEST = 80877103;
    static final int GSSENC_REQUEST = 80877104;
    static final int CANCEL_REQUEST = 80877102;
    /** A startup packet longer than this is not one (PostgreSQL's own limit, MAX_STARTUP_PACKET_LENGTH). */
    static final int MAX_STARTUP = 10_000;
    /** SQLSTATE 57P03 cannot_connect_now: what PostgreSQL itself answers while it starts or stops. */
    static final String CANNOT_CONNECT_NOW = "57P03";

    /** What the client sent before it waits for the server's authentication request. */
    enum Startup {
        /** A StartupMessage: the client now waits for an answer (an ErrorResponse ends it). */
        STARTUP,
        /** A CancelRequest: it expects no answer; close the connection. */
        CANCEL
    }

    private PgWire() {
    }

    /**
     * Reads from a client up to and including its StartupMessage (or CancelRequest), answering
     * each SSLRequest and GSSENCRequest with {@code 'N'}.
     *
     * @throws IOException on a closed connection, or bytes that are not the start of the protocol
     */
    static Startup readStartup(InputStream in, OutputStream out) throws IOException {
        DataInputStream d = new DataInputStream(in);
        for (int i = 0; i < 3; i++) { // at most an SSLRequest and a GSSENCRequest before the startup
            int len = d.readInt();
            if (len < 8 || len > MAX_STARTUP) {
                throw new IOException("not a PostgreSQL startup packet (length " + len + ")");
            }
            int code = d.readInt();
            skip(d, len - 8);
            if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
                if (len != 8) {
                    throw new IOException("malformed encryption request (length " + len + ")");
                }
                out.write('N');
                out.flush();
                continue;
            }
            if (code == CANCEL_REQUEST) {
                return Startup.CANCEL;
            }
            if (code >>> 16 != 3) {
                throw new IOException("unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xffff));
            }
            return Startup.STARTUP;
        }
        throw new IOException("too many encryption requests before the startup packet");
    }

    /**
     * A FATAL ErrorResponse: {@code 'E'}, its length, the fields {@code S} and {@code V}
     * ({@code FATAL}), {@code C} (the SQLSTATE) and {@code M} (the message), each a NUL-terminated
     * string, then a NUL.
     */
    static byte[] errorResponse(String sqlstate, String message) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        field(body, 'S', "FATAL");
        field(body, 'V', "FATAL");
        field(body, 'C', sqlstate);
        field(body, 'M', message);
        body.write(0);
        byte[] b = body.toByteArray();
        int len = b.length + 4;
        ByteArrayOutputStream msg = new ByteArrayOutputStream(len + 1);
        msg.write('E');
        msg.write(len >>> 24);
        msg.write(len >>> 16);
        msg.write(len >>> 8);
        msg.write(len);
        msg.write(b, 0, b.length);
        return msg.toByteArray();
    }

    /**
     * Answers a client that waits for a server that will not come: reads its startup (see
     * {@link #readStartup}) and, unless it was a cancel request, writes a FATAL ErrorResponse with
     * {@code message}. The caller closes the connection.
     */
    static void refuse(InputStream in, OutputStream out, String message) throws IOException {
        if (readStartup(in, out) == Startup.STARTUP) {
            out.write(errorResponse(CANNOT_CONNECT_NOW, message));
            out.flush();
        }
    }

    private static void field(ByteArrayOutputStream out, char type, String value) {
        out.write(type);
        byte[] v = value.replace('\0', ' ').getBytes(StandardCharsets.UTF_8);
        out.write(v, 0, v.length);
        out.write(0);
    }

    private static void skip(DataInputStream d, int n) throws IOException {
        int left = n;
        while (left > 0) {
            int s = d.skipBytes(left);
            if (s <= 0) {
                if (d.read() < 0) {
                    throw new EOFException();
                }
                s = 1;
            }
            left -= s;
        }
    }
}
