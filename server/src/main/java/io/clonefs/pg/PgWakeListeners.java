package io.clonefs.pg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's listening sockets on the ports of suspended servers: one thread and one selector
 * for all of them (hundreds of suspended servers cost one thread). Each accepted connection is
 * handed to the {@link Handler} at once, on that thread. {@link #close} accepts whatever waits in
 * the socket's backlog (handing it over too) before it closes the socket, so that no client that
 * got through the TCP handshake is reset.
 *
 * <p>Thread-safe; {@link #listen} and {@link #close} are called by any thread but the selector's.
 */
final class PgWakeListeners implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgWakeListeners.class);

    /** Told of every accepted connection, on the selector's thread; must not block. */
    @FunctionalInterface
    interface Handler {
        void accepted(String name, SocketChannel client);
    }

    private final Handler handler;
    private final Selector selector;
    private final Map<String, ServerSocketChannel> listening = new ConcurrentHashMap<>();
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    PgWakeListeners(Handler handler) {
        this.handler = handler;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.thread = new Thread(this::loop, "clonefs-pg-wake-listener");
        thread.setDaemon(true);
        thread.start();
    }

    /** Whether the daemon listens for {@code name} now. */
    boolean listening(String name) {
        return listening.containsKey(name);
    }

    /**
     * Listens on 127.0.0.1:{@code port} for {@code name} (SO_REUSEADDR, as PostgreSQL binds).
     *
     * @throws IOException when the port cannot be bound (another program has it)
     */
    void listen(String name, int port) throws IOException {
        if (closed) {
            throw new IOException("the PostgreSQL manager is shutting down");
        }
        if (listening.containsKey(name)) {
            return;
        }
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
            ch.configureBlocking(false);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        listening.put(name, ch);
        CompletableFuture<Void> registered = new CompletableFuture<>();
        run(() -> {
            try {
                ch.register(selector, SelectionKey.OP_ACCEPT, name);
                registered.complete(null);
            } catch (IOException | RuntimeException e) {
                registered.completeExceptionally(e);
            }
        });
        await(registered, "register the listener of " + name);
    }

    /**
     * Stops listening for {@code name}: first accepts (and hands over) the connections waiting
     * in the backlog, then closes the socket. Returns once the port is free. Does nothing when
     * not listening.
     */
    void close(String name) {
        ServerSocketChannel ch = listening.remove(name);
        if (ch == null) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable closing = () -> {
            try {
                drain(name, ch);
            } finally {
                SelectionKey k = ch.keyFor(selector);
                if (k != null) {
                    k.cancel();
                }
                closeQuietly(ch);
                try {
                    selector.selectNow(); // a registered channel's socket is released when its key is flushed
                } catch (IOException | ClosedSelectorException e) {
                    // the selector is closed: so is the socket
                }
                done.complete(null);
            }
        };
        if (Thread.currentThread() == thread || closed) {
            closing.run();
        } else {
            run(closing);
        }
        await(done, "close the listener of " + name);
    }

    private void drain(String name, ServerSocketChannel ch) {
        while (true) {
            SocketChannel c;
            try {
                c = ch.accept();
            } catch (IOException e) {
                return;
            }
            if (c == null) {
                return;
            }
            hand(name, c);
        }
    }

    private void hand(String name, SocketChannel c) {
        try {
            handler.accepted(name, c);
        } catch (RuntimeException e) {
            LOG.warn("wake handler of {} failed: {}", name, e.getMessage());
            PgProxy.closeQuietly(c);
        }
    }

    private void run(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private void await(CompletableFuture<Void> f, String what) {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot " + what + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("cannot " + what + ": the listener thread does not answer");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to " + what);
        }
    }

    private void loop() {
        try {
            while (!closed) {
                selector.select(1000);
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    t.run();
                }
                for (SelectionKey k : selector.selectedKeys()) {
                    if (k.isValid() && k.isAcceptable()) {
                        drain((String) k.attachment(), (ServerSocketChannel) k.channel());
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) {
                LOG.error("the listener thread of suspended PostgreSQL servers failed: {}", e.getMessage(), e);
            }
        } finally {
            for (Runnable t; (t = tasks.poll()) != null; ) {
                t.run();
            }
        }
    }

    /** Closes every listener (handing over what waits in their backlogs) and ends the thread. */
    @Override
    public void close() {
        for (String name : listening.keySet()) {
            close(name);
        }
        closed = true;
        selector.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private static void closeQuietly(ServerSocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
