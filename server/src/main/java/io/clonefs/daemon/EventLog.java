package io.clonefs.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.base.ClonefsException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's event log: one JSON object per line in {@code POOL/events.log} (mode 0600), each
 * with a sequence number that grows across daemon restarts, served by {@code GET /v1/events}.
 * Events are what scripts wait for: a branch created, reset, destroyed or expired.
 *
 * <p>Thread rules: thread-safe; appends are serialised by the instance's monitor. Subscribers
 * ({@link #subscribe}) are called on the appending thread, after the monitor is released, in
 * sequence order per appender; they must return at once (the webhooks only enqueue).
 */
public final class EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How many recent events are kept in memory for {@link #since}. */
    private static final int KEEP = 10_000;

    /**
     * One event.
     *
     * @param seq     1, 2, 3... in the order they happened
     * @param time    ISO-8601 instant
     * @param type    {@code created}, {@code reset}, {@code destroyed} or {@code expired}
     * @param kind    what it concerns, e.g. {@code branch} or {@code source}
     * @param name    its name
     * @param details more, such as the source, snapshot and URI of a branch
     */
    public record Event(long seq, String time, String type, String kind, String name, Map<String, Object> details) {
    }

    /** A page of events after {@code since}; {@code last} is the sequence number to ask after next. */
    public record Page(List<Event> events, long last) {
    }

    private final Path file;
    private final List<Consumer<Event>> subscribers = new CopyOnWriteArrayList<>();
    private final Deque<Event> recent = new ArrayDeque<>();
    private long seq;

    private EventLog(Path file) {
        this.file = file;
    }

    /** Opens (or creates, mode 0600) {@code POOL/events.log} and reads the recent events back. */
    public static EventLog open(Path pool) {
        EventLog log = new EventLog(pool.resolve("events.log"));
        log.load();
        return log;
    }

    public Path file() {
        return file;
    }

    private void load() {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                return;
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        remember(JSON.readValue(line, Event.class));
                    } catch (IOException e) {
                        LOG.warn("{}: skipping a line that is not an event: {}", file, e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot open the event log " + file + ": " + e.getMessage(), e);
        }
    }

    private void remember(Event e) {
        recent.addLast(e);
        if (recent.size() > KEEP) {
            recent.removeFirst();
        }
        seq = Math.max(seq, e.seq());
    }

    /**
     * Calls {@code subscriber} with every event appended from now on (the webhooks). It runs on the
     * appending thread and must not block; what it throws is logged and dropped.
     */
    public void subscribe(Consumer<Event> subscriber) {
        subscribers.add(subscriber);
    }

    /** Appends an event and returns it; an event that cannot be written is logged, not thrown. */
    public Event append(String type, String kind, String name, Map<String, Object> details) {
        Event e;
        synchronized (this) {
            e = new Event(seq + 1, Instant.now().toString(), type, kind, name, details == null ? Map.of() : details);
            remember(e);
            try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE)) {
                out.write(JSON.writeValueAsBytes(e));
                out.write('\n');
            } catch (IOException ex) {
                LOG.error("cannot append to the event log {}: {}", file, ex.getMessage());
            }
        }
        LOG.debug("event {}", e);
        for (Consumer<Event> s : subscribers) {
            try {
                s.accept(e);
            } catch (RuntimeException ex) {
                LOG.warn("event subscriber failed on event {}: {}", e.seq(), ex.getMessage());
            }
        }
        return e;
    }

    /** The events with a sequence number above {@code since}, oldest first, at most {@code limit}. */
    public synchronized Page since(long since, int limit) {
        List<Event> out = new ArrayList<>();
        for (Event e : recent) {
            if (e.seq() > since && out.size() < limit) {
                out.add(e);
            }
        }
        long last = out.isEmpty() ? Math.max(since, 0) : out.get(out.size() - 1).seq();
        if (out.isEmpty() && since > seq) {
            last = seq;
        }
        return new Page(out, last);
    }
}
