package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiMetricsTest {
    @TempDir
    Path tmp;

    @Test
    void routesAreTemplatesWithABoundedSetOfValues() {
        assertEquals("/v1/datasets/{name}", ApiMetrics.route("/v1/datasets/db@s1"));
        assertEquals("/v1/pg/servers/{name}/reset", ApiMetrics.route("/v1/pg/servers/pr-7/reset"));
        assertEquals("/v1/pg/servers/{name}", ApiMetrics.route("/v1/pg/servers/pr-7"));
        assertEquals("/v1/volumes", ApiMetrics.route("/v1/volumes"));
        assertEquals("/v1/webhooks", ApiMetrics.route("/v1/webhooks"));
        assertEquals("/v1/webhooks/deliveries", ApiMetrics.route("/v1/webhooks/deliveries"));
        assertEquals("/v1/ui/links", ApiMetrics.route("/v1/ui/links"));
        assertEquals("other", ApiMetrics.route("/v1/ui/links/x"));
        assertEquals("/v1/webhooks/{id}", ApiMetrics.route("/v1/webhooks/wh-1a2b3c4d"));
        assertEquals("/v1/webhooks/{id}/test", ApiMetrics.route("/v1/webhooks/wh-1a2b3c4d/test"));
        assertEquals("other", ApiMetrics.route("/v1/webhooks/wh-1a2b3c4d/explode"));
        assertEquals("/v1/tokens", ApiMetrics.route("/v1/tokens"));
        assertEquals("/v1/tokens/{id}", ApiMetrics.route("/v1/tokens/3f2a9c81d0e4"));
        assertEquals("other", ApiMetrics.route("/v1/tokens/3f2a9c81d0e4/x"));
        assertEquals("/metrics", ApiMetrics.route("/metrics"));
        assertEquals("other", ApiMetrics.route("/v1/pg/servers/pr-7/explode"));
        assertEquals("other", ApiMetrics.route("/v1/" + "x".repeat(100)));
        assertEquals("other", ApiMetrics.route("//v1/status"));
    }

    @Test
    void rendersTwoLabels() {
        ApiMetrics m = new ApiMetrics();
        m.count("/v1/volumes", 201);
        m.count("/v1/volumes", 201);
        m.count("/v1/volumes", 409);
        StringBuilder b = new StringBuilder();
        m.render(b);
        assertTrue(b.toString().contains("clonefs_api_requests_total{route=\"/v1/volumes\",status=\"201\"} 2\n"), b.toString());
        assertTrue(b.toString().contains("clonefs_api_requests_total{route=\"/v1/volumes\",status=\"409\"} 1\n"), b.toString());
    }

    @Test
    void eventLogKeepsSequenceNumbersAcrossReopenAndIsPrivate() throws Exception {
        EventLog log = EventLog.open(tmp);
        log.append("created", "branch", "b1", Map.of("source", "src"));
        log.append("destroyed", "branch", "b1", null);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(tmp.resolve("events.log"))));
        EventLog again = EventLog.open(tmp);
        EventLog.Event e = again.append("created", "branch", "b2", null);
        assertEquals(3, e.seq());
        EventLog.Page p = again.since(1, 10);
        assertEquals(2, p.events().size());
        assertEquals(3, p.last());
        assertEquals(1, again.since(0, 1).events().size());
        assertEquals(3, again.since(3, 10).last());
        assertEquals(0, again.since(3, 10).events().size());
        assertEquals(3, Files.readAllLines(tmp.resolve("events.log")).size());
    }
}
