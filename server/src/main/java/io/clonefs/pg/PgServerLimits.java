package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.pg.limits.Limits;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changing a server's limits ({@link Limits}: memory, CPU weight, settings of its own) after it was
 * made, as {@code clonefs pg limit NAME ...} and {@code POST /v1/pg/servers/NAME/limits} ask. The
 * change is checked whole before anything is written (a bad value, or a host without the cgroup
 * controller it needs, changes nothing), then saved with the record; a running server's memory
 * limit and weight are written into its cgroup at once, its settings take effect at its next start.
 * A change is told to the event log as {@code limits}.
 *
 * <p>Thread-safe: a change holds the server's name lock.
 */
final class PgServerLimits {
    private static final Logger LOG = LoggerFactory.getLogger(PgServerLimits.class);

    private final PgRegistry registry;
    private final PgProcesses processes;
    private final PgServers servers;
    private final PgEvents events;

    PgServerLimits(PgRegistry registry, PgProcesses processes, PgServers servers, PgEvents events) {
        this.registry = registry;
        this.processes = processes;
        this.servers = servers;
        this.events = events;
    }

    PgApi.Server change(String name, PgApi.LimitsRequest req) {
        return registry.withName(name, () -> {
            PgRecord rec = registry.require(name);
            Limits next = processes.limiter().check(merge(Limits.of(rec.limits()), req));
            PgRecord changed = rec.withLimits(next);
            long pid = processes.pid(changed);
            if (pid > 0) {
                processes.limiter().applyRunning(changed, pid);
            }
            registry.put(changed);
            LOG.info("limits of {}: {}", name, next);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("memory", next.memory());
            d.put("cpuWeight", next.cpuWeight());
            d.put("settings", next.settings());
            d.put("running", pid > 0);
            events.emit("limits", changed, d);
            return servers.view(changed);
        });
    }

    /** {@code base} with a request's changes: what it leaves out stays. */
    static Limits merge(Limits base, PgApi.LimitsRequest req) {
        if (req == null) {
            return base;
        }
        Limits l = base;
        if (req.memory() != null) {
            String m = req.memory().strip().toLowerCase(Locale.ROOT);
            l = l.withMemory(m.equals("none") || m.equals("0") ? null : Limits.parseMemory(req.memory()));
        }
        if (req.cpuWeight() != null) {
            l = l.withCpuWeight(req.cpuWeight() == 0 ? null : req.cpuWeight());
        }
        if (req.unset() != null) {
            l = l.withoutSettings(req.unset());
        }
        if (req.settings() != null) {
            l = l.withSettings(req.settings());
        }
        return l;
    }

    /** A branch request's limits (null when it asks for none). */
    static Limits ofRequest(PgApi.LimitsRequest req) {
        if (req == null) {
            return null;
        }
        Limits l = merge(Limits.NONE, req);
        return l.none() && l.settings().isEmpty() ? null : l;
    }

    /** A record's limits as listed (null for none). */
    static PgApi.ServerLimits view(PgRecord rec, PgLimiter limiter) {
        Limits l = rec.limits();
        if (l == null) {
            return null;
        }
        String group = limiter.hasGroup(rec.name()) ? limiter.group(rec.name()) : null;
        return new PgApi.ServerLimits(l.memory(), l.cpuWeight(), Map.copyOf(l.settings()), group);
    }
}
