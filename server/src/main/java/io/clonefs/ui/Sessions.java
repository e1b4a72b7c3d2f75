package io.clonefs.ui;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The console's sessions, one-time login codes and failed sign-in count, kept in the daemon's
 * memory only (a restart signs everyone out). Times are {@code nanoTime}-like milliseconds from
 * the given clock.
 */
final class Sessions {
    /** A session unused this long is gone. */
    static final long IDLE_MS = 12 * 3600_000L;
    /** A one-time login code is good this long, once. */
    static final long CODE_MS = 120_000L;
    /** Failed sign-ins (wrong token or used code) allowed in {@link #WINDOW_MS} before the rest are refused unchecked. */
    static final int MAX_FAILURES = 10;
    static final long WINDOW_MS = 60_000L;

    /** A signed-in browser: the cookie's value and the CSRF token its state changes must carry. */
    record Session(String id, String csrf) {
        boolean csrfMatches(String header) {
            return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8),
                    csrf.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final SecureRandom random = new SecureRandom();
    private final LongSupplier clock;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    private final Map<String, Long> codes = new ConcurrentHashMap<>();
    private final Deque<Long> failures = new ArrayDeque<>();

    Sessions(LongSupplier clockMillis) {
        this.clock = clockMillis;
    }

    Sessions() {
        this(() -> System.nanoTime() / 1_000_000);
    }

    private String secret() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** A new session. */
    Session open() {
        expire();
        Session s = new Session(secret(), secret());
        sessions.put(s.id(), s);
        lastSeen.put(s.id(), clock.getAsLong());
        return s;
    }

    /** The live session with this cookie value (and marks it used), or null. */
    Session find(String id) {
        if (id == null) {
            return null;
        }
        Session s = sessions.get(id);
        if (s == null) {
            return null;
        }
        long now = clock.getAsLong();
        Long seen = lastSeen.get(id);
        if (seen == null || now - seen > IDLE_MS) {
            close(id);
            return null;
        }
        lastSeen.put(id, now);
        return s;
    }

    void close(String id) {
        sessions.remove(id);
        lastSeen.remove(id);
    }

    int size() {
        return sessions.size();
    }

    /** A new one-time login code, good for {@link #CODE_MS}. */
    String newCode() {
        expire();
        String c = secret();
        codes.put(c, clock.getAsLong() + CODE_MS);
        return c;
    }

    /** True once for a code that was issued and has not expired; the code is gone afterwards either way. */
    boolean useCode(String code) {
        if (code == null) {
            return false;
        }
        Long until = codes.remove(code);
        return until != null && clock.getAsLong() <= until;
    }

    /** True while fewer than {@link #MAX_FAILURES} sign-ins failed in the last {@link #WINDOW_MS}. */
    synchronized boolean mayTry() {
        long now = clock.getAsLong();
        while (!failures.isEmpty() && now - failures.peekFirst() > WINDOW_MS) {
            failures.removeFirst();
        }
        return failures.size() < MAX_FAILURES;
    }

    synchronized void failed() {
        failures.addLast(clock.getAsLong());
        while (failures.size() > MAX_FAILURES) {
            failures.removeFirst();
        }
    }

    private void expire() {
        long now = clock.getAsLong();
        codes.values().removeIf(until -> until < now);
        for (Iterator<Map.Entry<String, Long>> it = lastSeen.entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, Long> e = it.next();
            if (now - e.getValue() > IDLE_MS) {
                sessions.remove(e.getKey());
                it.remove();
            }
        }
    }
}
