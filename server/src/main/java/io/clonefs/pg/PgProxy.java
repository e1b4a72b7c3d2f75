package io.clonefs.pg;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a client connection the daemon accepted for a suspended server once that server runs:
 * connects to the server on 127.0.0.1:PORT (so its {@code pg_hba.conf} treats the client as
 * the TCP client it is) and copies bytes both ways, unchanged (TLS included), for the
 * connection's lifetime; when either side closes, both are closed. Only the connections that
 * woke a server (or arrived while it was starting) go through here: once the server runs, new
 * connections reach PostgreSQL directly.
 *
 * <p>Two threads per proxied connection.
 */
final class PgProxy {
    private static final Logger LOG = LoggerFactory.getLogger(PgProxy.class);
    private static final AtomicInteger OPEN = new AtomicInteger();

    private PgProxy() {
    }

    /** Connections being proxied now. */
    static int open() {
        return OPEN.get();
    }

    /** Connects to the server and starts copying; the client is closed when that fails. */
    static void serve(SocketChannel client, int port, String name) {
        SocketChannel server;
        try {
            server = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            server.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client.configureBlocking(true);
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            LOG.warn("cannot connect a woken client to PostgreSQL {} on port {}: {}", name, port, e.getMessage());
            closeQuietly(client);
            return;
        }
        OPEN.incrementAndGet();
        AtomicInteger ends = new AtomicInteger();
        Runnable up = () -> copy(client, server, ends);
        Runnable down = () -> copy(server, client, ends);
        start(up, "clonefs-pg-proxy-" + name + "-up");
        start(down, "clonefs-pg-proxy-" + name + "-down");
    }

    private static void start(Runnable r, String threadName) {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        t.start();
    }

    private static void copy(SocketChannel from, SocketChannel to, AtomicInteger ends) {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        try {
            while (from.read(b) >= 0) {
                b.flip();
                while (b.hasRemaining()) {
                    to.write(b);
                }
                b.clear();
            }
        } catch (IOException e) {
            // the other side closed, or the connection broke: end both
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            if (ends.incrementAndGet() == 2) {
                OPEN.decrementAndGet();
            }
        }
    }

    static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
