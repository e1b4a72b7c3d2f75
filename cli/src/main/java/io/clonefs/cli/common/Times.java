package io.clonefs.cli.common;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.TimeZone;

/** Times as people read them in plain output: ISO-8601 instants shown in local time, to the second. */
public final class Times {
    private Times() {
    }

    /** Made on first use (see {@link #local}). */
    private static final class Formats {
        static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    }

    /**
     * {@code 2025-01-31T11:00:00.123Z} as {@code 2025-01-31 12:00:00} (local zone); "-" for null.
     *
     * <p>The daemon's instants ({@link Instant#toString}: {@code YYYY-MM-DDTHH:MM:SS[.fraction]Z})
     * are read and shown by hand, with the default {@link TimeZone}'s offset at that instant (the
     * zone {@link ZoneId#systemDefault} stands for, from the same time-zone data); anything else
     * goes through {@link Instant#parse} and a {@link DateTimeFormatter}. The same text either way
     * ({@code TimesTest}); the hand-made way spares a short command java.time's formatters and its
     * zone-rules provider, whose service look-up opens the whole class path.
     */
    public static String local(String isoInstant) {
        if (isoInstant == null || isoInstant.isEmpty()) {
            return "-";
        }
        String quick = quick(isoInstant);
        if (quick != null) {
            return quick;
        }
        try {
            return Formats.LOCAL.format(Instant.parse(isoInstant).atZone(ZoneId.systemDefault()));
        } catch (DateTimeParseException e) {
            return isoInstant;
        }
    }

    /** {@code YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z} with every field in its range, in local time; null for anything else. */
    static String quick(String s) {
        int n = s.length();
        if (n < 20 || n > 30 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(n - 1) != 'Z') {
            return null;
        }
        if (n > 20) {
            if (s.charAt(19) != '.' || n == 21) {
                return null;
            }
            for (int i = 20; i < n - 1; i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                    return null;
                }
            }
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour < 0 || hour > 23
                || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return null; // a non-digit is -1
        }
        long epochSecond = LocalDateTime.of(year, month, day, hour, minute, second).toEpochSecond(ZoneOffset.UTC);
        int offsetMillis = TimeZone.getDefault().getOffset(epochSecond * 1000);
        if (offsetMillis % 1000 != 0) {
            return null;
        }
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.ofTotalSeconds(offsetMillis / 1000));
        if (t.getYear() < 1000 || t.getYear() > 9999) {
            return null;
        }
        StringBuilder b = new StringBuilder(19);
        b.append(t.getYear()).append('-');
        two(b, t.getMonthValue()).append('-');
        two(b, t.getDayOfMonth()).append(' ');
        two(b, t.getHour()).append(':');
        two(b, t.getMinute()).append(':');
        two(b, t.getSecond());
        return b.toString();
    }

    private static int digits(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int daysIn(int year, int month) {
        return switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
    }

    private static StringBuilder two(StringBuilder b, int v) {
        return b.append((char) ('0' + v / 10)).append((char) ('0' + v % 10));
    }
}
