package io.clonefs.webhook;

import io.clonefs.api.WebhookApi;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Sends deliveries on its own threads. The emitter only {@link #offer}s: a few lines under a lock
 * that no sender holds while sending, so a slow or dead receiver never slows the operation that
 * caused the event. At most {@link #capacity} deliveries are pending (queued, waiting for a retry
 * or in flight); beyond that the oldest queued one is dropped, and the log says so.
 *
 * <p>{@link #WORKERS} threads send, one attempt at a time each, with a connect timeout and a
 * request timeout; a failed attempt is queued again by a timer after {@link Backoff#next}.
 */
final class Dispatcher implements AutoCloseable {
    static final int WORKERS = 4;
    static final int CAPACITY = 1000;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /**
     * One event on its way to one webhook.
     *
     * @param startNanos when the event was offered: the give-up time counts from there
     */
    record Job(WebhookApi.Webhook hook, String event, String eventId, Body body, long startNanos, int attempt) {
        Job next() {
            return new Job(hook, event, eventId, body, startNanos, attempt + 1);
        }
    }

    /**
     * The JSON of an event, written on first use by a sender (not by the emitter: the first
     * serialisation of a type costs tens of milliseconds), then shared by every webhook and attempt.
     */
    static final class Body {
        private final Supplier<byte[]> writer;
        private byte[] bytes;

        Body(Supplier<byte[]> writer) {
            this.writer = writer;
        }

        synchronized byte[] get() {
            if (bytes == null) {
                bytes = writer.get();
            }
            return bytes;
        }
    }

    /** What one attempt got: an HTTP status, or an error without one. */
    record Result(Integer status, String error, long millis, long retryAfterMillis) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
    private final DeliveryLog log;
    private final Predicate<String> stillThere;
    private final String userAgent;
    private final int capacity;
    private final Duration requestTimeout;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition nonEmpty = lock.newCondition();
    private final ArrayDeque<Job> ready = new ArrayDeque<>();
    private final List<Thread> workers = new ArrayList<>();
    private final ScheduledExecutorService timer;
    private int pending;
    private volatile boolean closed;

    /**
     * @param stillThere whether a webhook id is still configured (a retry of a removed one is dropped)
     */
    Dispatcher(DeliveryLog log, Predicate<String> stillThere, String userAgent, int capacity, Duration requestTimeout) {
        this.log = log;
        this.stillThere = stillThere;
        this.userAgent = userAgent;
        this.capacity = capacity;
        this.requestTimeout = requestTimeout;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "clonefs-webhook-retry");
            t.setDaemon(true);
            return t;
        });
        for (int i = 1; i <= WORKERS; i++) {
            Thread t = new Thread(this::work, "clonefs-webhook-" + i);
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
    }

    /** Queues a delivery; never blocks (beyond the queue's lock) and never throws. */
    void offer(Job job) {
        Job dropped = null;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (pending >= capacity) {
                dropped = ready.pollFirst();
                if (dropped == null) {
                    dropped = job; // everything pending is in flight or waiting for a retry
                    job = null;
                } else {
                    pending--;
                }
            }
            if (job != null) {
                pending++;
                ready.addLast(job);
                nonEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
        if (dropped != null) {
            log.add(entry(dropped, "dropped", new Result(null, "queue full (" + capacity + " deliveries pending)", 0, 0)));
        }
    }

    int pending() {
        lock.lock();
        try {
            return pending;
        } finally {
            lock.unlock();
        }
    }

    private void requeue(Job job) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (!stillThere.test(job.hook().id())) {
                pending--;
                return;
            }
            ready.addLast(job); // already counted in pending
            nonEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    private void done() {
        lock.lock();
        try {
            pending--;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        while (true) {
            Job job;
            lock.lock();
            try {
                while (ready.isEmpty() && !closed) {
                    nonEmpty.await();
                }
                if (closed) {
                    return;
                }
                job = ready.pollFirst();
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            try {
                attempt(job);
            } catch (RuntimeException e) {
                log.add(entry(job, "gave_up", new Result(null, "internal error: " + e, 0, 0)));
                done();
            }
        }
    }

    private void attempt(Job job) {
        Result r = send(job);
        if (Backoff.delivered(r.status())) {
            log.add(entry(job, "delivered", r));
            done();
            return;
        }
        if (!Backoff.retryable(r.status())) {
            log.add(entry(job, "rejected", r));
            done();
            return;
        }
        long elapsed = (System.nanoTime() - job.startNanos()) / 1_000_000;
        long giveUp = job.hook().giveUpSeconds() * 1000;
        long wait = Backoff.next(job.attempt(), elapsed, giveUp, r.retryAfterMillis());
        if (wait < 0 || closed) {
            String why = "gave up after " + job.attempt() + " attempt" + (job.attempt() == 1 ? "" : "s") + " in "
                    + String.format("%.1f", elapsed / 1000.0) + " s (give-up time " + job.hook().giveUpSeconds() + " s)"
                    + (r.error() != null ? ": " + r.error() : "");
            log.add(entry(job, "gave_up", new Result(r.status(), why, r.millis(), 0)));
            done();
            return;
        }
        String why = (r.error() != null ? r.error() + "; " : "") + "next attempt in " + wait + " ms";
        log.add(entry(job, "retry", new Result(r.status(), why, r.millis(), 0)));
        try {
            timer.schedule(() -> requeue(job.next()), wait, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done(); // closing
        }
    }

    /** One attempt, on the calling thread. */
    Result send(Job job) {
        HttpRequest req;
        byte[] body = job.body().get();
        try {
            req = HttpRequest.newBuilder(URI.create(job.hook().url())).timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", userAgent)
                    .header("X-Clonefs-Event", job.event())
                    .header("X-Clonefs-Event-Id", job.eventId())
                    .header("X-Clonefs-Webhook-Id", job.hook().id())
                    .header("X-Clonefs-Delivery-Attempt", Integer.toString(job.attempt()))
                    .header(Signature.HEADER, Signature.sign(job.hook().secret(), body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        } catch (IllegalArgumentException e) {
            return new Result(null, "bad URL: " + e.getMessage(), 0, 0);
        }
        long t0 = System.nanoTime();
        CompletableFuture<HttpResponse<Void>> f = http.sendAsync(req, HttpResponse.BodyHandlers.discarding());
        try {
            // the request timeout covers the answer's headers; this bound covers its body too
            HttpResponse<Void> resp = f.get(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            return new Result(resp.statusCode(), null, millis(t0), retryAfter(resp));
        } catch (TimeoutException e) {
            f.cancel(true);
            return new Result(null, "no answer within " + requestTimeout.toSeconds() + " s", millis(t0), 0);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof java.net.http.HttpTimeoutException) {
                return new Result(null, "no answer within " + requestTimeout.toSeconds() + " s", millis(t0), 0);
            }
            return new Result(null, describe(c), millis(t0), 0);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return new Result(null, "interrupted (the daemon is stopping)", millis(t0), 0);
        }
    }

    /** {@code ConnectException: Connection refused}, or with the cause when there is no message. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        String s = t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
        if ((m == null || m.isBlank()) && t.getCause() != null && t.getCause() != t) {
            s += " (" + describe(t.getCause()) + ")";
        }
        return s;
    }

    private static long retryAfter(HttpResponse<?> resp) {
        return resp.headers().firstValue("Retry-After").map(v -> {
            try {
                return Math.max(0, Long.parseLong(v.trim())) * 1000;
            } catch (NumberFormatException e) {
                return 0L; // an HTTP date: not worth it
            }
        }).orElse(0L);
    }

    private static long millis(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    static WebhookApi.Delivery entry(Job job, String result, Result r) {
        return new WebhookApi.Delivery(Instant.now().toString(), job.hook().id(), job.event(), job.eventId(), job.attempt(),
                result, r.status(), r.error(), r.millis());
    }

    /** Stops sending; what is pending is lost (docs/webhooks.md). Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            nonEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        timer.shutdownNow();
        for (Thread t : workers) {
            t.interrupt();
        }
    }
}
