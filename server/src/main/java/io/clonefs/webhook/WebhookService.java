package io.clonefs.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.api.WebhookApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.daemon.EventLog;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The pool's webhooks: kept in {@link WebhookStore}, fed by the event log, sent by the
 * {@link Dispatcher}. Changes are written durably before they take effect.
 */
public final class WebhookService implements AutoCloseable {
    /** The default give-up time of a webhook: 10 minutes. */
    public static final long GIVE_UP_SECONDS = 600;
    public static final long MAX_GIVE_UP_SECONDS = 86_400;
    static final Pattern ID = Pattern.compile("wh-[0-9a-f]{8}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What a receiver gets: the event of the log, named, and the pool it happened in.
     *
     * @param id    the event's id ({@code X-Clonefs-Event-Id}): its sequence number in the event log,
     *              or {@code ping-HEX} for a test
     * @param event the dotted name ({@code X-Clonefs-Event}), e.g. {@code pg.branch.created}
     */
    public record Payload(String id, String event, long seq, String time, String type, String kind, String name,
                          Map<String, Object> details, String pool) {
    }

    private final Path pool;
    private final WebhookStore store;
    private final DeliveryLog log = new DeliveryLog();
    private final Dispatcher dispatcher;
    private volatile List<WebhookApi.Webhook> hooks;

    public WebhookService(Path pool, String version) {
        this(pool, version, Dispatcher.CAPACITY, Dispatcher.REQUEST_TIMEOUT);
    }

    WebhookService(Path pool, String version, int capacity, Duration requestTimeout) {
        this.pool = pool;
        this.store = new WebhookStore(pool);
        this.hooks = store.load();
        this.dispatcher = new Dispatcher(log, id -> find(id) != null, "clonefs/" + version, capacity, requestTimeout);
    }

    /** Delivers the events appended to {@code events} from now on. */
    public void attach(EventLog events) {
        events.subscribe(this::onEvent);
    }

    /**
     * Called on the emitter's thread: queues the event for each webhook that wants it. The JSON is
     * written later, by the sender.
     */
    void onEvent(EventLog.Event e) {
        Dispatcher.Body body = null;
        long now = System.nanoTime();
        for (WebhookApi.Webhook h : hooks) {
            if (WebhookEvents.wants(h.events(), e)) {
                if (body == null) {
                    body = new Dispatcher.Body(() -> body(new Payload(Long.toString(e.seq()), WebhookEvents.name(e), e.seq(),
                            e.time(), e.type(), e.kind(), e.name(), e.details(), pool.toString())));
                }
                dispatcher.offer(new Dispatcher.Job(h, WebhookEvents.name(e), Long.toString(e.seq()), body, now, 1));
            }
        }
    }

    private static byte[] body(Payload p) {
        try {
            return JSON.writeValueAsBytes(p);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write an event as JSON: " + e.getMessage(), e);
        }
    }

    /** Adds a webhook; the reply holds its secret in clear (the only time it is shown). */
    public synchronized WebhookApi.Webhook add(WebhookApi.AddWebhook a) {
        String url = checkUrl(a.url());
        List<String> events = WebhookEvents.check(a.events());
        String secret = a.secret() == null ? Signature.newSecret() : checkSecret(a.secret());
        long giveUp = a.giveUpSeconds() == null ? GIVE_UP_SECONDS : a.giveUpSeconds();
        if (giveUp < 1 || giveUp > MAX_GIVE_UP_SECONDS) {
            throw new ClonefsException.InvalidArgument("the give-up time must be from 1 s to " + MAX_GIVE_UP_SECONDS
                    + " s (a day), not " + giveUp + " s");
        }
        String id;
        do {
            byte[] b = new byte[4];
            RANDOM.nextBytes(b);
            id = "wh-" + HexFormat.of().formatHex(b);
        } while (find(id) != null);
        WebhookApi.Webhook h = new WebhookApi.Webhook(id, url, events, secret, giveUp, Instant.now().toString());
        List<WebhookApi.Webhook> next = new ArrayList<>(hooks);
        next.add(h);
        store.save(next);
        hooks = List.copyOf(next);
        return h;
    }

    /** The webhooks, secrets masked. */
    public List<WebhookApi.Webhook> list() {
        return hooks.stream().map(WebhookService::masked).toList();
    }

    public synchronized void remove(String id) {
        WebhookApi.Webhook h = get(id);
        List<WebhookApi.Webhook> next = new ArrayList<>(hooks);
        next.remove(h);
        store.save(next);
        hooks = List.copyOf(next);
    }

    /** Sends one {@code ping} event now, on this thread, once (no retry); logged like any delivery. */
    public WebhookApi.TestResult test(String id) {
        WebhookApi.Webhook h = get(id);
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        String eventId = "ping-" + HexFormat.of().formatHex(b);
        Payload p = new Payload(eventId, WebhookEvents.PING, 0, Instant.now().toString(), WebhookEvents.PING, "webhook",
                h.id(), Map.of("url", h.url()), pool.toString());
        Dispatcher.Body body = new Dispatcher.Body(() -> body(p));
        Dispatcher.Job job = new Dispatcher.Job(h, WebhookEvents.PING, eventId, body, System.nanoTime(), 1);
        Dispatcher.Result r = dispatcher.send(job);
        boolean ok = Backoff.delivered(r.status());
        log.add(Dispatcher.entry(job, ok ? "delivered" : r.status() != null ? "rejected" : "failed", r));
        return new WebhookApi.TestResult(h.id(), eventId, ok, r.status(), r.error(), r.millis());
    }

    /** The last {@code limit} deliveries of webhook {@code id} (null: of all), oldest first. */
    public WebhookApi.Deliveries deliveries(String id, int limit) {
        if (id != null) {
            get(id);
        }
        return new WebhookApi.Deliveries(log.recent(id, limit), log.dropped(), dispatcher.pending());
    }

    private WebhookApi.Webhook find(String id) {
        for (WebhookApi.Webhook h : hooks) {
            if (h.id().equals(id)) {
                return h;
            }
        }
        return null;
    }

    /** The webhook, or NotFound naming the configured ones. */
    WebhookApi.Webhook get(String id) {
        WebhookApi.Webhook h = find(id);
        if (h == null) {
            List<WebhookApi.Webhook> all = hooks;
            throw new ClonefsException.NotFound("no webhook '" + id + "'" + (all.isEmpty()
                    ? " (none is configured: add one with 'clonefs webhook add')"
                    : " (configured: " + String.join(", ", all.stream().map(WebhookApi.Webhook::id).toList()) + ")"));
        }
        return h;
    }

    static WebhookApi.Webhook masked(WebhookApi.Webhook h) {
        return new WebhookApi.Webhook(h.id(), h.url(), h.events(), Signature.mask(h.secret()), h.giveUpSeconds(),
                h.createdAt());
    }

    /** An http:// or https:// URL with a host, or one line saying why not. */
    static String checkUrl(String url) {
        String u = url == null ? "" : url.trim();
        String why = null;
        try {
            URI uri = new URI(u);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                why = "it must start with http:// or https://";
            } else if (uri.getHost() == null || uri.getHost().isEmpty()) {
                why = "it has no host";
            } else if (uri.getFragment() != null) {
                why = "it has a #fragment";
            }
        } catch (URISyntaxException e) {
            why = e.getReason();
        }
        if (why != null) {
            throw new ClonefsException.InvalidArgument("bad webhook URL '" + u + "': " + why);
        }
        return u;
    }

    static String checkSecret(String s) {
        if (s.length() < 16 || s.length() > 256 || !s.chars().allMatch(c -> c > 32 && c < 127)) {
            throw new ClonefsException.InvalidArgument("a webhook secret must be 16 to 256 printable ASCII characters "
                    + "without spaces (got " + s.length() + " characters)");
        }
        return s;
    }

    @Override
    public void close() {
        dispatcher.close();
    }
}
