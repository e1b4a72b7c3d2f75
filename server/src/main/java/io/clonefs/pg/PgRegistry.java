package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.pg.process.Postgres;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The registry of managed servers: every {@link PgRecord} and {@link PgSchedule}, kept in memory
 * and in {@code POOL/pg/state.json} ({@link PgStateStore}, rewritten atomically after every
 * change); the names being created, each with the port it was given; the allocation of ports from
 * the configured range; and the lock of each name.
 *
 * <h2>Threads</h2>
 * Thread-safe. {@link #lock} guards the maps and the state file and is held only for short steps,
 * never while a program runs. Operations on one server are serialised by its name's lock
 * ({@link #withName}), taken before {@link #lock}, never inside it. Once {@link #close()}d, new
 * operations are refused.
 */
final class PgRegistry {
    private final PgOptions options;
    private final PgStateStore store;
    /** Whether a volume of that name exists (a new branch needs a new volume). */
    private final Predicate<String> volumeExists;

    private final Object lock = new Object();
    private final LinkedHashMap<String, PgRecord> servers = new LinkedHashMap<>();
    private final LinkedHashMap<String, PgSchedule> schedules = new LinkedHashMap<>();
    /** Names being created, and the port each was given. */
    private final Map<String, Integer> reserved = new HashMap<>();
    private final ConcurrentHashMap<String, ReentrantLock> nameLocks = new ConcurrentHashMap<>();
    private volatile boolean closed;

    PgRegistry(PgOptions options, PgStateStore store, Predicate<String> volumeExists) {
        this.options = options;
        this.store = store;
        this.volumeExists = volumeExists;
        PgStateStore.State s = store.load();
        s.servers().forEach(r -> servers.put(r.name(), r));
        s.schedules().forEach(sc -> schedules.put(sc.source(), sc));
    }

    // ---- open and closed -----------------------------------------------------------------------

    /** Refuses new operations from now on; false when it was closed already. */
    boolean close() {
        synchronized (lock) {
            if (closed) {
                return false;
            }
            closed = true;
            return true;
        }
    }

    boolean closed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new ClonefsException.Conflict("the PostgreSQL manager is shutting down");
        }
    }

    // ---- name locks ----------------------------------------------------------------------------

    ReentrantLock nameLock(String name) {
        return nameLocks.computeIfAbsent(name, k -> new ReentrantLock());
    }

    /** Runs {@code action} holding {@code name}'s lock, if the registry is still open. */
    <T> T withName(String name, Supplier<T> action) {
        ReentrantLock l = nameLock(name);
        l.lock();
        try {
            checkOpen();
            return action.get();
        } finally {
            l.unlock();
        }
    }

    // ---- servers -------------------------------------------------------------------------------

    /** Every managed server, in the order they were registered. */
    List<PgRecord> servers() {
        synchronized (lock) {
            return new ArrayList<>(servers.values());
        }
    }

    /** The names of every server and of every server being created. */
    Set<String> allNames() {
        Set<String> names = new LinkedHashSet<>();
        synchronized (lock) {
            names.addAll(servers.keySet());
            names.addAll(reserved.keySet());
        }
        return names;
    }

    PgRecord find(String name) {
        synchronized (lock) {
            return servers.get(name);
        }
    }

    PgRecord require(String name) {
        PgRecord r = find(name);
        if (r == null) {
            throw new ClonefsException.NotFound("no PostgreSQL server named '" + name + "' (see 'clonefs pg list')");
        }
        return r;
    }

    /** Adds or replaces a server; saves. */
    void put(PgRecord rec) {
        synchronized (lock) {
            servers.put(rec.name(), rec);
            save();
        }
    }

    /** Forgets a server and its schedule; saves. */
    void remove(String name) {
        synchronized (lock) {
            servers.remove(name);
            schedules.remove(name);
            save();
        }
    }

    // ---- schedules -----------------------------------------------------------------------------

    PgSchedule schedule(String source) {
        synchronized (lock) {
            return schedules.get(source);
        }
    }

    List<PgSchedule> schedules() {
        synchronized (lock) {
            return new ArrayList<>(schedules.values());
        }
    }

    /** Sets the schedule of {@code source}, keeping the time of its last snapshot; saves. */
    void putSchedule(String source, long everySeconds, int keep) {
        synchronized (lock) {
            PgSchedule old = schedules.get(source);
            schedules.put(source, new PgSchedule(source, everySeconds, keep, old == null ? null : old.lastAt()));
            save();
        }
    }

    /** Removes the schedule of {@code source}; false when there was none. */
    boolean removeSchedule(String source) {
        synchronized (lock) {
            if (schedules.remove(source) == null) {
                return false;
            }
            save();
            return true;
        }
    }

    /** Records the time of a scheduled snapshot, if the schedule still exists; saves. */
    void scheduleTaken(String source, String at) {
        synchronized (lock) {
            if (schedules.containsKey(source)) {
                schedules.put(source, schedules.get(source).withLastAt(at));
                save();
            }
        }
    }

    private void save() {
        store.save(new PgStateStore.State(PgStateStore.VERSION, new ArrayList<>(servers.values()),
                new ArrayList<>(schedules.values())));
    }

    // ---- names being created, and ports ----------------------------------------------------------

    /**
     * Reserves a name (and a port) for a server being created. {@code volumeMayExist}: init and
     * import may use an existing volume; a branch needs a new one.
     *
     * @param port null for one from the range
     */
    int reserveNew(String name, Integer port, boolean volumeMayExist) {
        synchronized (lock) {
            if (servers.containsKey(name) || reserved.containsKey(name)) {
                throw new ClonefsException.AlreadyExists("a PostgreSQL server named '" + name + "' already exists");
            }
            if (!volumeMayExist && volumeExists.test(name)) {
                throw new ClonefsException.AlreadyExists("volume '" + name + "' already exists");
            }
            int p = port != null ? checkPort(port) : freePort();
            reserved.put(name, p);
            return p;
        }
    }

    void release(String name) {
        synchronized (lock) {
            reserved.remove(name);
        }
    }

    private Set<Integer> usedPorts() {
        Set<Integer> used = new HashSet<>(reserved.values());
        servers.values().forEach(r -> used.add(r.port()));
        return used;
    }

    private int checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new ClonefsException.InvalidArgument("port " + port + " is not a TCP port");
        }
        for (PgRecord r : servers.values()) {
            if (r.port() == port) {
                throw new PgException.PortInUse("port " + port + " is already used by PostgreSQL server '" + r.name() + "'");
            }
        }
        if (reserved.containsValue(port)) {
            throw new PgException.PortInUse("port " + port + " is being given to another server");
        }
        if (!Postgres.portFree(port)) {
            throw new PgException.PortInUse("port " + port + " is in use on 127.0.0.1 by another program");
        }
        return port;
    }

    private int freePort() {
        Set<Integer> used = usedPorts();
        for (int p = options.firstPort(); p <= options.lastPort(); p++) {
            if (!used.contains(p) && Postgres.portFree(p)) {
                return p;
            }
        }
        throw new PgException.NoFreePort("no free port in " + options.firstPort() + "-" + options.lastPort()
                + " (destroy servers you no longer need, or give one with --port)");
    }
}
