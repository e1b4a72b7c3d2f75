/**
 * Webhooks: every event of the daemon's event log ({@link io.clonefs.daemon.EventLog}) POSTed as
 * JSON to the URLs that asked for it, signed with HMAC-SHA256 under a per-webhook secret, retried
 * with exponential backoff for a bounded time (docs/webhooks.md).
 *
 * <p>{@link io.clonefs.webhook.WebhookStore} keeps the webhooks in {@code POOL/webhooks.json};
 * {@link io.clonefs.webhook.Dispatcher} sends, on its own threads, from a bounded queue that the
 * emitter only appends to (never blocking it: a full queue drops its oldest delivery), and writes
 * the in-memory {@link io.clonefs.webhook.DeliveryLog}; {@link io.clonefs.webhook.WebhookService}
 * ties them to the event log and {@link io.clonefs.webhook.WebhookRoutes} serves them under
 * {@code /v1/webhooks}. Everything here is thread-safe.
 */
package io.clonefs.webhook;
