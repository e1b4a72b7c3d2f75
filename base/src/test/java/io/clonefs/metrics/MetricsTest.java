package io.clonefs.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void rendersPrometheusTextFormat() {
        Metrics m = new Metrics();
        m.counter("x_total", "Things.", "op", "read").add(3);
        m.gauge("y_bytes", "Bytes.", null, null, () -> 42);
        Histogram h = m.histogram("z_seconds", "Latency.", "op", "write");
        h.observeNanos(30_000);
        h.observeNanos(2_000_000_000L);
        String text = m.render();
        assertTrue(text.contains("# TYPE x_total counter\nx_total{op=\"read\"} 3\n"), text);
        assertTrue(text.contains("y_bytes 42\n"), text);
        assertTrue(text.contains("z_seconds_bucket{op=\"write\",le=\"2.0E-5\"} 0\n"), text);
        assertTrue(text.contains("z_seconds_bucket{op=\"write\",le=\"5.0E-5\"} 1\n"), text);
        assertTrue(text.contains("z_seconds_bucket{op=\"write\",le=\"+Inf\"} 2\n"), text);
        assertTrue(text.contains("z_seconds_count{op=\"write\"} 2\n"), text);
    }
}
