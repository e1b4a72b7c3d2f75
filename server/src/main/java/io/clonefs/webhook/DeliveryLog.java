package io.clonefs.webhook;

import io.clonefs.api.WebhookApi;
import io.clonefs.metrics.Metrics;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last {@link #KEEP} delivery attempts, in memory only (a daemon restart empties it; the
 * daemon's log keeps a line of each failure), counted in {@code clonefs_webhook_deliveries_total{result}}.
 */
final class DeliveryLog {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryLog.class);
    static final int KEEP = 1000;
    static final String METRIC = "clonefs_webhook_deliveries_total";

    private final Deque<WebhookApi.Delivery> entries = new ArrayDeque<>();
    private long dropped;

    synchronized void add(WebhookApi.Delivery d) {
        entries.addLast(d);
        if (entries.size() > KEEP) {
            entries.removeFirst();
        }
        if (d.result().equals("dropped")) {
            dropped++;
        }
        Metrics.process().counter(METRIC, "Webhook delivery attempts by result (delivered, retry, rejected, gave_up, "
                + "failed, dropped).", "result", d.result()).increment();
        if (d.result().equals("dropped")) {
            // on the emitter's thread, and in bursts: one line for the 1st drop and every 1000th
            if (dropped % 1000 == 1) {
                LOG.warn("webhook {}: event {} dropped, the queue is full ({} dropped so far)", d.webhook(), d.eventId(),
                        dropped);
            }
        } else if (d.result().equals("delivered")) {
            LOG.debug("webhook {}: event {} delivered ({})", d.webhook(), d.eventId(), d.status());
        } else {
            LOG.info("webhook {}: event {} {} on attempt {}: {}", d.webhook(), d.eventId(), d.result(), d.attempt(),
                    d.error() != null ? d.error() : "HTTP " + d.status());
        }
    }

    /** The last {@code limit} entries of {@code webhook} (null: of every webhook), oldest first. */
    synchronized List<WebhookApi.Delivery> recent(String webhook, int limit) {
        List<WebhookApi.Delivery> out = new ArrayList<>();
        for (var it = entries.descendingIterator(); it.hasNext() && out.size() < limit; ) {
            WebhookApi.Delivery d = it.next();
            if (webhook == null || webhook.equals(d.webhook())) {
                out.add(d);
            }
        }
        java.util.Collections.reverse(out);
        return out;
    }

    synchronized long dropped() {
        return dropped;
    }
}
