package io.clonefs.pg;

import io.clonefs.base.ByteSizes;
import io.clonefs.metrics.Metrics;
import io.clonefs.pg.limits.Limits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission of a starting server: a new branch, a wake, {@code pg start}, a reset or restart of a
 * stopped server goes ahead only if the host's available memory ({@code MemAvailable}) stays at
 * least the floor ({@link PgMemory}) once the server runs, counting for it its memory limit, or
 * {@link PgMemory#perServer()} without one. When it would not, idle branches (running, no client,
 * not told never to suspend) are suspended first, the least recently used first, as many as their
 * memory (the proportional set size of their processes) covers the shortfall; when all of them
 * would not cover it, nothing is suspended and the start is refused with
 * {@link PgException.NoMemory}, naming what is available, needed and kept. Before anything of the
 * start is made: a refused {@code pg branch} leaves no volume, snapshot or record, a refused wake
 * answers its clients with the reason.
 *
 * <p>Not a reservation: two starts at the same moment both see the memory before either runs.
 * The floor is what absorbs that and what a running server grows by.
 */
final class PgAdmission {
    private static final Logger LOG = LoggerFactory.getLogger(PgAdmission.class);
    private static final Path PROC = Path.of("/proc");
    private static final LongAdder REFUSED = Metrics.process().counter("clonefs_pg_admission_refused_total",
            "Server starts (new branches, wakes, starts) refused because the host's available memory would fall below the floor.",
            null, null);
    private static final LongAdder MADE_ROOM = Metrics.process().counter("clonefs_pg_admission_suspends_total",
            "Idle branches suspended to make room in the host's memory for a starting server.", null, null);

    /** Suspends an idle branch to make room; false when it was no longer idle (or busy). */
    @FunctionalInterface
    interface Suspender {
        boolean suspendForRoom(String name, String forWhom);
    }

    /** A branch that could be suspended, with its memory and when it last had a client. */
    record Candidate(String name, long bytes, long lastUsedNanos) {
    }

    private final PgRegistry registry;
    private final PgProcesses processes;
    private final PgMemory memory;
    private final ToLongFunction<String> lastUsed;
    private final Suspender suspender;
    private volatile boolean warnedUnreadable;

    PgAdmission(PgRegistry registry, PgProcesses processes, PgMemory memory, ToLongFunction<String> lastUsed,
                Suspender suspender) {
        this.registry = registry;
        this.processes = processes;
        this.memory = memory;
        this.lastUsed = lastUsed;
        this.suspender = suspender;
    }

    /**
     * Admits the start of server {@code name} (its name lock held) with these limits, suspending idle
     * branches if it must.
     *
     * @throws PgException.NoMemory when the host cannot take it
     */
    void admit(String name, Limits limits) {
        if (memory.floor() == 0) {
            return;
        }
        long[] mi = readMeminfo(memory.meminfo());
        if (mi == null) {
            if (!warnedUnreadable) {
                warnedUnreadable = true;
                LOG.warn("cannot read MemTotal and MemAvailable from {}: servers start without an admission check",
                        memory.meminfo());
            }
            return;
        }
        long floor = memory.floorFor(mi[0]);
        long need = limits != null && limits.memory() != null ? limits.memory() : memory.perServer();
        long available = mi[1];
        long shortfall = floor + need - available;
        if (shortfall <= 0) {
            return;
        }
        List<Candidate> idle = candidates(name);
        List<Candidate> chosen = choose(idle, shortfall);
        if (chosen == null) {
            REFUSED.increment();
            long all = idle.stream().mapToLong(Candidate::bytes).sum();
            throw new PgException.NoMemory("not enough memory for PostgreSQL server '" + name + "': the host has "
                    + ByteSizes.format(available) + " of memory available, the server needs about "
                    + ByteSizes.format(need) + " and " + ByteSizes.format(floor)
                    + " is kept free (CLONEFS_PG_MEMORY_FLOOR)" + (idle.isEmpty() ? "; no idle branch to suspend"
                    : "; suspending the " + idle.size() + " idle branch" + (idle.size() == 1 ? "" : "es")
                    + " would free only about " + ByteSizes.format(all))
                    + "; stop or suspend servers, or lower the floor");
        }
        long freed = 0;
        List<String> names = new ArrayList<>();
        for (Candidate c : chosen) {
            if (suspender.suspendForRoom(c.name(), name)) {
                MADE_ROOM.increment();
                freed += c.bytes();
                names.add(c.name());
            }
        }
        if (freed < shortfall) {
            // one became busy meanwhile: look again (those suspended stay so; they wake on connect)
            long[] again = readMeminfo(memory.meminfo());
            long now = again == null ? available + freed : Math.max(again[1], available + freed);
            if (floor + need - now > 0) {
                REFUSED.increment();
                throw new PgException.NoMemory("not enough memory for PostgreSQL server '" + name + "': the host has "
                        + ByteSizes.format(now) + " of memory available, the server needs about "
                        + ByteSizes.format(need) + " and " + ByteSizes.format(floor)
                        + " is kept free (CLONEFS_PG_MEMORY_FLOOR); stop or suspend servers, or lower the floor");
            }
        }
        LOG.info("suspended {} idle branch(es) ({}, about {}) to make room for PostgreSQL {}", names.size(),
                String.join(", ", names), ByteSizes.format(freed), name);
    }

    /** The least recently used candidates whose memory covers {@code shortfall}; null when all do not. */
    static List<Candidate> choose(List<Candidate> idle, long shortfall) {
        List<Candidate> sorted = new ArrayList<>(idle);
        sorted.sort(Comparator.comparingLong(Candidate::lastUsedNanos).thenComparing(Candidate::name));
        List<Candidate> out = new ArrayList<>();
        long sum = 0;
        for (Candidate c : sorted) {
            if (sum >= shortfall) {
                break;
            }
            out.add(c);
            sum += c.bytes();
        }
        return sum >= shortfall ? out : null;
    }

    /** Running branches without a client that may be suspended, other than {@code starting}. */
    private List<Candidate> candidates(String starting) {
        List<Candidate> out = new ArrayList<>();
        for (PgRecord r : registry.servers()) {
            if (r.name().equals(starting) || !r.isBranch() || !r.running() || r.suspended()
                    || (r.suspendAfter() != null && r.suspendAfter() == 0)) {
                continue;
            }
            long pid = processes.pid(r);
            if (pid <= 0 || PgBackends.clients(pid) > 0) {
                continue;
            }
            out.add(new Candidate(r.name(), footprint(pid), lastUsed.applyAsLong(r.name())));
        }
        return out;
    }

    /**
     * Bytes of memory a postmaster and its children take together: the sum of their proportional set
     * sizes ({@code Pss} in {@code /proc/PID/smaps_rollup}), which counts their shared memory once.
     */
    static long footprint(long postmaster) {
        long kib = pss(postmaster);
        try {
            String children = Files.readString(PROC.resolve(postmaster + "/task/" + postmaster + "/children"),
                    StandardCharsets.US_ASCII);
            for (String c : children.trim().split("\\s+")) {
                if (!c.isEmpty()) {
                    kib += pss(Long.parseLong(c));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone meanwhile
        }
        return kib << 10;
    }

    private static long pss(long pid) {
        try {
            for (String line : Files.readAllLines(PROC.resolve(pid + "/smaps_rollup"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile
        }
        return 0;
    }

    /** {MemTotal, MemAvailable} in bytes from a file laid out like {@code /proc/meminfo}, or null. */
    static long[] readMeminfo(Path file) {
        long total = -1;
        long available = -1;
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                if (line.startsWith("MemTotal:")) {
                    total = kib(line);
                } else if (line.startsWith("MemAvailable:")) {
                    available = kib(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return total < 0 || available < 0 ? null : new long[] {total, available};
    }

    private static long kib(String line) {
        String[] f = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        return Long.parseLong(f[0]) << 10;
    }
}
