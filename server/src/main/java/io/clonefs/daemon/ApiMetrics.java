package io.clonefs.daemon;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code clonefs_api_requests_total{route,status}}: control API requests by route template and
 * HTTP status, rendered after the process registry's families on {@code GET /metrics} (that
 * registry keys a family by one label only, and this one needs two).
 *
 * <p>Thread rules: thread-safe; counting is lock-free.
 */
final class ApiMetrics {
    static final String NAME = "clonefs_api_requests_total";

    private record Key(String route, int status) {
    }

    private final ConcurrentHashMap<Key, LongAdder> counts = new ConcurrentHashMap<>();

    void count(String route, int status) {
        counts.computeIfAbsent(new Key(route, status), k -> new LongAdder()).increment();
    }

    void render(StringBuilder out) {
        out.append("# HELP ").append(NAME).append(" Control API requests by route and HTTP status.\n");
        out.append("# TYPE ").append(NAME).append(" counter\n");
        Map<String, Long> sorted = new TreeMap<>();
        counts.forEach((k, v) -> sorted.put("route=\"" + k.route() + "\",status=\"" + k.status() + "\"", v.sum()));
        sorted.forEach((labels, v) -> out.append(NAME).append('{').append(labels).append("} ").append(v).append('\n'));
    }

    /**
     * The route template of a request path (names replaced by placeholders), so that the label
     * has a bounded set of values; {@code other} for anything not served.
     */
    static String route(String path) {
        if (path == null) {
            return "other";
        }
        String[] p = path.split("/", -1);
        // p[0] is "" for a path starting with '/'
        if (p.length < 2 || !p[0].isEmpty()) {
            return "other";
        }
        if (p.length == 2 && p[1].equals("metrics")) {
            return "/metrics";
        }
        if (!p[1].equals("v1") || p.length < 3) {
            return "other";
        }
        switch (p[2]) {
            case "status", "datasets", "volumes", "snapshots", "clones", "space", "fsck", "sync", "shutdown", "events",
                    "openapi.json", "openapi.yaml" -> {
                if (p.length == 3) {
                    return "/v1/" + p[2];
                }
                if (p.length == 4 && p[2].equals("datasets")) {
                    return "/v1/datasets/{name}";
                }
                if (p.length == 4 && p[2].equals("space") && p[3].equals("history")) {
                    return "/v1/space/history";
                }
                return "other";
            }
            case "webhooks" -> {
                if (p.length == 3) {
                    return "/v1/webhooks";
                }
                if (p.length == 4) {
                    return p[3].equals("deliveries") ? "/v1/webhooks/deliveries" : "/v1/webhooks/{id}";
                }
                if (p.length == 5 && p[4].equals("test")) {
                    return "/v1/webhooks/{id}/test";
                }
                return "other";
            }
            case "ui" -> {
                return p.length == 4 && p[3].equals("links") ? "/v1/ui/links" : "other";
            }
            case "tokens" -> {
                return p.length == 3 ? "/v1/tokens" : p.length == 4 ? "/v1/tokens/{id}" : "other";
            }
            case "pg" -> {
                if (p.length == 4 && (p[3].equals("servers") || p[3].equals("init") || p[3].equals("import")
                        || p[3].equals("branches") || p[3].equals("stop-all") || p[3].equals("schedules"))) {
                    return "/v1/pg/" + p[3];
                }
                if (p.length == 5 && p[3].equals("servers")) {
                    return "/v1/pg/servers/{name}";
                }
                if (p.length == 5 && p[3].equals("progress")) {
                    return "/v1/pg/progress/{name}";
                }
                if (p.length == 5 && p[3].equals("schedules")) {
                    return "/v1/pg/schedules/{source}";
                }
                if (p.length == 6 && p[3].equals("servers")
                        && Set.of("start", "stop", "reset", "protect", "unprotect").contains(p[5])) {
                    return "/v1/pg/servers/{name}/" + p[5];
                }
                return "other";
            }
            default -> {
                return "other";
            }
        }
    }
}
