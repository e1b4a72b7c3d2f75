package io.clonefs.webhook;

import io.clonefs.base.ClonefsException;
import io.clonefs.daemon.EventLog;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The names webhooks subscribe to. An event of the event log, of type {@code T} (created, reset,
 * ...) about a server of kind {@code K} ({@code branch} or {@code source}), is named
 * {@code pg.K.T}: {@code pg.branch.created}, {@code pg.branch.destroyed}, {@code pg.source.masked}.
 * A webhook subscribes to such names, to a bare type (any kind: {@code created}, as {@code clonefs
 * events} prints it), or to {@code *} (everything). {@code ping} is the synthetic event of
 * {@code clonefs webhook test} and cannot be subscribed to.
 */
public final class WebhookEvents {
    /** The event types the PostgreSQL manager emits ({@code PgEvents}); a unit test keeps them in step. */
    public static final List<String> TYPES = List.of("created", "reset", "destroyed", "expired", "suspended", "woken",
            "wake-failed", "masked", "limits");
    /** The kinds of server an event concerns ({@code PgRecord.role}). */
    public static final List<String> KINDS = List.of("branch", "source");
    public static final String ALL = "*";
    public static final String PING = "ping";

    private WebhookEvents() {
    }

    /** The dotted name of an event of the log. */
    public static String name(EventLog.Event e) {
        return "pg." + e.kind() + "." + e.type();
    }

    /** True when a webhook subscribed to {@code subscribed} wants the event. */
    public static boolean wants(List<String> subscribed, EventLog.Event e) {
        String dotted = name(e);
        for (String s : subscribed) {
            if (s.equals(ALL) || s.equals(dotted) || s.equals(e.type())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The subscription as given (trimmed, lower case, duplicates dropped, order kept); an unknown name
     * or an empty list is refused with one line that lists the valid ones.
     */
    public static List<String> check(List<String> names) {
        Set<String> out = new LinkedHashSet<>();
        if (names != null) {
            for (String n : names) {
                String s = n == null ? "" : n.trim().toLowerCase(Locale.ROOT);
                if (s.isEmpty()) {
                    continue;
                }
                if (!valid(s)) {
                    throw new ClonefsException.InvalidArgument("unknown event '" + n.trim() + "': " + validNames());
                }
                out.add(s);
            }
        }
        if (out.isEmpty()) {
            throw new ClonefsException.InvalidArgument("a webhook needs at least one event: " + validNames());
        }
        return List.copyOf(out);
    }

    static boolean valid(String s) {
        if (s.equals(ALL) || TYPES.contains(s)) {
            return true;
        }
        String[] p = s.split("\\.", -1);
        return p.length == 3 && p[0].equals("pg") && KINDS.contains(p[1]) && TYPES.contains(p[2]);
    }

    /** One line: what {@code --events} takes. */
    public static String validNames() {
        List<String> dotted = new ArrayList<>();
        for (String k : KINDS) {
            dotted.add("pg." + k + ".TYPE");
        }
        return "valid are " + String.join(", ", dotted) + ", a bare TYPE or * (all), TYPE one of "
                + String.join(", ", TYPES);
    }
}
