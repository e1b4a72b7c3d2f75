package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsing and printing of the durations ({@code 90s}, {@code 15m}, {@code 2h}, {@code 7d}) and moments the pg commands take. */
public final class PgDurations {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d|w)?");

    private PgDurations() {
    }

    /** {@code 90s}, {@code 15m}, {@code 2h}, {@code 7d}, {@code 1w}, a bare number of seconds, or ISO-8601 {@code PT2H}. */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new ClonefsException.InvalidArgument("duration is empty");
        }
        String t = text.strip().toLowerCase(Locale.ROOT);
        Matcher m = SIMPLE.matcher(t);
        Duration d;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m", "min" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            };
        } else {
            try {
                d = Duration.parse(text.strip().toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new ClonefsException.InvalidArgument("'" + text + "' is not a duration (use e.g. 90s, 15m, 2h, 7d)");
            }
        }
        if (d.isNegative() || d.isZero()) {
            throw new ClonefsException.InvalidArgument("duration '" + text + "' must be positive");
        }
        return d;
    }

    /**
     * An idle time before a suspend ({@code --suspend-after}): {@code 0} or {@code never} for
     * never ({@link Duration#ZERO}), else a duration of at least one second.
     */
    public static Duration parseIdle(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("0") || t.equals("never")) {
            return Duration.ZERO;
        }
        Duration d;
        try {
            d = parse(text);
        } catch (ClonefsException.InvalidArgument e) {
            throw new ClonefsException.InvalidArgument("'" + text + "' is not an idle time (use e.g. 10m, 1h, or 0 for never)");
        }
        if (d.toMillis() < 1000) {
            throw new ClonefsException.InvalidArgument("idle time '" + text + "' is shorter than 1s (use 0 for never)");
        }
        return d;
    }

    /** The shortest of {@code 7d}, {@code 2h}, {@code 15m}, {@code 90s}, {@code 250ms} that is exact. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s != 0 && s % 86400 == 0) {
            return s / 86400 + "d";
        } else if (s != 0 && s % 3600 == 0) {
            return s / 3600 + "h";
        } else if (s != 0 && s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    /**
     * A moment: an ISO-8601 instant ({@code 2025-01-31T12:00:00Z}), a date-time with offset, a local
     * date-time ({@code 2025-01-31T12:00} or {@code 2025-01-31 12:00}, in this host's zone), or a
     * duration ago ({@code 10m}, {@code 2h ago}), or {@code now}.
     */
    public static Instant parseMoment(String text, Instant now) {
        if (text == null || text.isBlank()) {
            throw new ClonefsException.InvalidArgument("time is empty");
        }
        String t = text.strip();
        if (t.equalsIgnoreCase("now")) {
            return now;
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException ignored) {
            // try the other forms
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException ignored) {
            // try the other forms
        }
        try {
            return LocalDateTime.parse(t.replace(' ', 'T')).atZone(ZoneId.systemDefault()).toInstant();
        } catch (DateTimeParseException ignored) {
            // try the other forms
        }
        String ago = t.toLowerCase(Locale.ROOT).endsWith("ago") ? t.substring(0, t.length() - 3).strip() : t;
        try {
            return now.minus(parse(ago));
        } catch (ClonefsException.InvalidArgument e) {
            throw new ClonefsException.InvalidArgument("'" + text + "' is not a time (use an ISO-8601 time such as "
                    + "2025-01-31T12:00:00Z, a local time such as '2025-01-31 12:00', or a duration ago such as 10m)");
        }
    }
}
