package io.clonefs.api;

import java.util.List;

/** The JSON bodies of the webhook routes ({@code /v1/webhooks}); see docs/webhooks.md. */
public final class WebhookApi {
    private WebhookApi() {
    }

    /**
     * {@code POST /v1/webhooks}: a new webhook.
     *
     * @param url           where events are POSTed, http:// or https://
     * @param events        event names ({@code pg.branch.created}, a bare type such as {@code created},
     *                      or {@code *})
     * @param secret        the HMAC key; null to have the daemon generate one (32 random bytes, hex)
     * @param giveUpSeconds how long a delivery is retried before it is given up (null: 600)
     */
    public record AddWebhook(String url, List<String> events, String secret, Long giveUpSeconds) {
        @Override
        public String toString() {
            return "AddWebhook[" + url + ", " + events + "]";
        }
    }

    /**
     * A webhook. Its {@code secret} is in clear only in the reply to {@code POST /v1/webhooks};
     * listed, it is masked ({@code 3f9a…}).
     */
    public record Webhook(String id, String url, List<String> events, String secret, long giveUpSeconds,
                          String createdAt) {
        @Override
        public String toString() {
            return "Webhook[" + id + ", " + url + ", " + events + "]";
        }
    }

    /**
     * One line of the delivery log: one attempt to deliver one event to one webhook, or a delivery
     * dropped because the queue was full.
     *
     * @param result  {@code delivered} (2xx), {@code retry} (5xx, 429 or a network error; tried again),
     *                {@code rejected} (any other status; not retried), {@code gave_up} (failed and
     *                the webhook's give-up time is spent), {@code failed} (a {@code test} ping that
     *                got no answer), {@code dropped} (queue full, never sent)
     * @param status  the receiver's HTTP status, or null when there was none
     * @param error   what went wrong, or null
     * @param millis  how long the attempt took
     */
    public record Delivery(String time, String webhook, String event, String eventId, int attempt, String result,
                           Integer status, String error, long millis) {
    }

    /**
     * {@code GET /v1/webhooks/deliveries}: the most recent deliveries, oldest first.
     *
     * @param dropped deliveries dropped since the daemon started because the queue was full
     * @param pending deliveries queued, waiting for a retry or in flight
     */
    public record Deliveries(List<Delivery> deliveries, long dropped, int pending) {
    }

    /** {@code POST /v1/webhooks/ID/test}: the answer to one synthetic {@code ping} event. */
    public record TestResult(String webhook, String eventId, boolean ok, Integer status, String error, long millis) {
    }
}
