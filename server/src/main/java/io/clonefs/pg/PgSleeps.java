package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.metrics.Histogram;
import io.clonefs.metrics.Metrics;
import io.clonefs.pg.limits.Limits;
import io.clonefs.pg.process.Postgres.StopMode;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idle servers sleep and wake on connect.
 *
 * <h2>Suspend</h2>
 * Every tick, each running server with an idle time ({@link PgRecord#suspendAfter()}, else the
 * pool's default for a branch) has its clients counted from {@code /proc} ({@link PgBackends}:
 * no connection, no process started). One without a client for its idle time is stopped with
 * {@code pg_ctl stop -m fast} (a clean shutdown: the next start needs no recovery), marked
 * {@code suspended} in the state file, and the daemon listens on its port
 * ({@link PgWakeListeners}). Its port, URI, time to live and protection stay.
 *
 * <h2>Wake</h2>
 * The first connection to a suspended server's port starts a wake (one per server, however many
 * clients connect): under the server's name lock {@code pg_ctl start} runs while the daemon keeps
 * listening; as soon as the new postmaster has made its lock file ({@code postmaster.pid}, a few
 * milliseconds before it binds its port) the listener accepts what waits in its backlog and
 * closes, PostgreSQL binds the port itself, and each connection the daemon accepted is served
 * through {@link PgProxy} for its lifetime; from then on clients reach PostgreSQL directly. A
 * postmaster that still found the port taken is started once more. Between the listener's close
 * and PostgreSQL's bind a new client is refused (ECONNREFUSED); between the bind and the end of
 * startup PostgreSQL itself answers "the database system is starting up" (SQLSTATE 57P03).
 * When the server cannot start, every waiting client gets a PostgreSQL ErrorResponse naming the
 * reason ({@link PgWire}) and the daemon listens again.
 *
 * <p>Thread-safe. Suspends and wakes hold the server's name lock; a tick skips a busy server.
 */
final class PgSleeps implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgSleeps.class);
    static final String WAKES = "clonefs_pg_wakes_total";
    static final String WAKE_SECONDS = "clonefs_pg_wake_seconds";
    private static final LongAdder WAKES_OK = Metrics.process().counter(WAKES,
            "Wakes of suspended PostgreSQL servers by a client's connection, by outcome.", "outcome", "ok");
    private static final LongAdder WAKES_FAILED = Metrics.process().counter(WAKES,
            "Wakes of suspended PostgreSQL servers by a client's connection, by outcome.", "outcome", "failed");
    private static final LongAdder SUSPENDS = Metrics.process().counter("clonefs_pg_suspends_total",
            "PostgreSQL servers suspended for being idle (or by 'pg suspend').", null, null);
    private static final Histogram WAKE_LATENCY = Metrics.process().histogram(WAKE_SECONDS,
            "From a client's connection to a suspended server until that server accepts connections.", null, null);

    /** The connections waiting for one wake, and when the first came. */
    private static final class Wake {
        final List<SocketChannel> clients = new ArrayList<>();
        final long startedNanos = System.nanoTime();
    }

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgProcesses processes;
    private final PgEvents events;
    private final PgOptions options;
    private final PgWakeListeners listeners;
    /**
     * When each running server last had a client (System.nanoTime), as seen by the ticks: its idle
     * time, and the order in which admission suspends idle branches.
     */
    private final Map<String, Long> lastBusy = new ConcurrentHashMap<>();
    private final Map<String, Wake> wakes = new LinkedHashMap<>();
    /** Suspended servers whose port could not be listened on (logged once). */
    private final Set<String> cannotListen = ConcurrentHashMap.newKeySet();
    private final PgAdmission admission;
    private final ExecutorService wakers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "clonefs-pg-wake");
        t.setDaemon(true);
        return t;
    });

    PgSleeps(PgRegistry registry, PgVolumes volumes, PgProcesses processes, PgEvents events, PgOptions options) {
        this.registry = registry;
        this.volumes = volumes;
        this.processes = processes;
        this.events = events;
        this.options = options;
        this.listeners = new PgWakeListeners(this::accepted);
        this.admission = new PgAdmission(registry, processes, options.memory(),
                name -> lastBusy.getOrDefault(name, 0L), this::suspendForRoom);
    }

    /**
     * Admits the start of server {@code name} (its name lock held): see {@link PgAdmission}.
     *
     * @throws PgException.NoMemory when the host cannot take another running server
     */
    void admit(String name, Limits limits) {
        admission.admit(name, limits);
    }

    /** Suspends an idle branch for admission; false when it is busy, has a client, or no longer runs. */
    private boolean suspendForRoom(String name, String forWhom) {
        ReentrantLock l = registry.nameLock(name);
        if (!l.tryLock()) {
            return false;
        }
        try {
            PgRecord cur = registry.find(name);
            if (cur == null || registry.closed() || cur.suspended() || !cur.running() || waking(name)) {
                return false;
            }
            long p = processes.pid(cur);
            if (p <= 0 || PgBackends.clients(p) > 0) {
                return false;
            }
            suspendLocked(cur, "to make room in the host's memory for '" + forWhom + "'");
            return true;
        } catch (RuntimeException e) {
            LOG.warn("cannot suspend PostgreSQL {} to make room: {}", name, e.getMessage());
            return false;
        } finally {
            l.unlock();
        }
    }

    /** The idle time after which a server is suspended; zero for never. */
    Duration idleTime(PgRecord r) {
        if (r.suspendAfter() != null) {
            return Duration.ofSeconds(r.suspendAfter());
        }
        return r.isBranch() ? options.suspendAfter() : Duration.ZERO;
    }

    /** Whether a wake of this server is under way. */
    boolean waking(String name) {
        synchronized (wakes) {
            return wakes.containsKey(name);
        }
    }

    /** How many servers are suspended (by their records). */
    long suspendedCount() {
        return registry.servers().stream().filter(PgRecord::suspended).count();
    }

    // ---- the clock -------------------------------------------------------------------------------

    /** One pass: suspend the servers idle for their idle time; listen again where that failed before. */
    void tick() {
        long now = System.nanoTime();
        for (PgRecord r : registry.servers()) {
            if (registry.closed()) {
                return;
            }
            if (r.suspended()) {
                if (!listeners.listening(r.name()) && !waking(r.name())) {
                    tryLocked(r.name(), cur -> {
                        if (cur.suspended() && !processes.running(cur)) {
                            listen(cur);
                        }
                    });
                }
                continue;
            }
            if (!r.running()) {
                lastBusy.remove(r.name());
                continue;
            }
            long pid = processes.pid(r);
            if (pid < 0) {
                lastBusy.remove(r.name());
                continue;
            }
            Duration idle = idleTime(r);
            Long last = lastBusy.get(r.name());
            if (last == null || PgBackends.clients(pid) > 0) {
                lastBusy.put(r.name(), now);
            } else if (!idle.isZero() && now - last >= idle.toNanos()) {
                tryLocked(r.name(), cur -> {
                    long p = processes.pid(cur);
                    if (!cur.suspended() && cur.running() && p > 0 && PgBackends.clients(p) == 0) {
                        suspendLocked(cur, "idle for " + PgDurations.format(idle));
                    }
                });
            }
        }
    }

    private void tryLocked(String name, Consumer<PgRecord> action) {
        ReentrantLock l = registry.nameLock(name);
        if (!l.tryLock()) {
            return; // busy; next tick
        }
        try {
            PgRecord cur = registry.find(name);
            if (cur != null && !registry.closed()) {
                action.accept(cur);
            }
        } catch (RuntimeException e) {
            LOG.warn("PostgreSQL {}: {}", name, e.getMessage());
        } finally {
            l.unlock();
        }
    }

    // ---- suspend ---------------------------------------------------------------------------------

    /** Stops a running server cleanly and listens on its port; the caller holds its name lock. */
    PgRecord suspendLocked(PgRecord rec, String why) {
        processes.stop(rec, StopMode.FAST);
        PgRecord r = rec.withRunning(true).withSuspended(true);
        registry.put(r);
        lastBusy.remove(r.name());
        SUSPENDS.increment();
        LOG.info("PostgreSQL {} suspended ({}); it starts on the next connection to port {}", r.name(), why, r.port());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("port", r.port());
        d.put("reason", why);
        events.emit("suspended", r, d);
        listen(r);
        return r;
    }

    /** Listens on a suspended server's port; a failure is logged (once) and retried on the next tick. */
    void listen(PgRecord r) {
        try {
            listeners.listen(r.name(), r.port());
            if (cannotListen.remove(r.name())) {
                LOG.info("listening again on port {} for suspended PostgreSQL {}", r.port(), r.name());
            }
        } catch (IOException | RuntimeException e) {
            if (cannotListen.add(r.name())) {
                LOG.warn("cannot listen on port {} for suspended PostgreSQL {} ({}); retrying", r.port(), r.name(),
                        e.getMessage());
            }
        }
    }

    // ---- wake --------------------------------------------------------------------------------------

    /** On the listener's thread: queue the client on its server's wake, starting one if none runs. */
    private void accepted(String name, SocketChannel client) {
        boolean first;
        synchronized (wakes) {
            Wake w = wakes.get(name);
            first = w == null;
            if (first) {
                w = new Wake();
                wakes.put(name, w);
            }
            w.clients.add(client);
        }
        if (first) {
            try {
                wakers.execute(() -> wake(name));
            } catch (RuntimeException e) { // shutting down
                refuse(takeClients(name), "the clonefs daemon is shutting down");
            }
        }
    }

    /** The wake of one server: start it, serve the clients that came meanwhile. */
    private void wake(String name) {
        try {
            registry.withName(name, () -> {
                PgRecord rec = registry.find(name);
                if (rec == null || !rec.suspended()) {
                    // destroyed, reset, stopped or started by its user meanwhile: they took the clients
                    refuse(takeClients(name), "PostgreSQL server '" + name + "' is no longer suspended; connect again");
                    return null;
                }
                resumeLocked(rec, true);
                return null;
            });
        } catch (RuntimeException e) {
            refuse(takeClients(name), e.getMessage());
        }
    }

    /**
     * Starts a suspended server (its name lock held): stops listening (taking the clients waiting
     * in the backlog), starts it, serves every waiting client. On failure the clients get an
     * ErrorResponse with the reason, the server stays suspended, the daemon listens again, and the
     * failure is thrown.
     *
     * @param byClient a client's connection woke it (counted as a wake); else its user started it
     */
    PgRecord resumeLocked(PgRecord rec, boolean byClient) {
        long t0;
        synchronized (wakes) {
            Wake w = wakes.get(rec.name());
            t0 = w == null ? System.nanoTime() : w.startedNanos;
        }
        try {
            volumes.requireVolume(rec);
            admission.admit(rec.name(), rec.limits());
            processes.startReleasing(rec, () -> listeners.close(rec.name()));
        } catch (RuntimeException e) {
            List<SocketChannel> waiting = takeClients(rec.name());
            String reason = e.getMessage().strip();
            LOG.warn("cannot wake PostgreSQL {}: {}", rec.name(), reason);
            refuse(waiting, "clonefs could not start suspended PostgreSQL server '" + rec.name() + "': " + reason);
            if (byClient) {
                WAKES_FAILED.increment();
            }
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("port", rec.port());
            d.put("clients", waiting.size());
            d.put("error", reason);
            events.emit("wake-failed", rec, d);
            listen(rec);
            throw e;
        }
        long nanos = System.nanoTime() - t0;
        PgRecord r = rec.withSuspended(false).withRunning(true);
        registry.put(r);
        lastBusy.put(r.name(), System.nanoTime());
        List<SocketChannel> waiting = takeClients(r.name());
        for (SocketChannel c : waiting) {
            PgProxy.serve(c, r.port(), r.name());
        }
        if (byClient) {
            WAKES_OK.increment();
            WAKE_LATENCY.observeNanos(nanos);
        }
        LOG.info("PostgreSQL {} woken in {} ms ({} waiting clients)", r.name(), nanos / 1_000_000, waiting.size());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("port", r.port());
        d.put("clients", waiting.size());
        d.put("millis", nanos / 1_000_000);
        d.put("byClient", byClient);
        events.emit("woken", r, d);
        return r;
    }

    /**
     * Ends a suspension without a start (its name lock held): stop, destroy, reset, or the
     * daemon's shutdown. The clients waiting get an ErrorResponse with {@code why}.
     */
    void unlistenLocked(PgRecord rec, String why) {
        listeners.close(rec.name());
        refuse(takeClients(rec.name()), why);
        lastBusy.remove(rec.name());
        cannotListen.remove(rec.name());
    }

    private List<SocketChannel> takeClients(String name) {
        synchronized (wakes) {
            Wake w = wakes.remove(name);
            return w == null ? List.of() : w.clients;
        }
    }

    /** Answers each client with a FATAL ErrorResponse (after reading its startup), in the background. */
    private void refuse(List<SocketChannel> clients, String message) {
        for (SocketChannel c : clients) {
            Runnable r = () -> {
                try (c) {
                    c.configureBlocking(true);
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    c.socket().setSoTimeout(10_000);
                    PgWire.refuse(c.socket().getInputStream(), Channels.newOutputStream(c), message);
                } catch (IOException e) {
                    LOG.debug("could not answer a waiting client: {}", e.getMessage());
                }
            };
            try {
                wakers.execute(r);
            } catch (RuntimeException e) {
                new Thread(r, "clonefs-pg-refuse").start();
            }
        }
    }

    // ---- closing -----------------------------------------------------------------------------------

    /**
     * Closes every listener (the suspended servers stay suspended in the state file: the next
     * {@code restoreAll} listens again); clients waiting are told the daemon is shutting down.
     */
    @Override
    public void close() {
        listeners.close();
        List<String> names;
        synchronized (wakes) {
            names = new ArrayList<>(wakes.keySet());
        }
        for (String n : names) {
            refuse(takeClients(n), "the clonefs daemon is shutting down; connect again once it is back");
        }
        wakers.shutdown();
    }

    /** Checks an idle time given for a server: zero (never) or at least a second. */
    static void checkIdle(Duration d) {
        if (d != null && (d.isNegative() || (!d.isZero() && d.toMillis() < 1000))) {
            throw new ClonefsException.InvalidArgument("an idle time before a suspend must be 0 (never) or at least 1s");
        }
    }
}
