package io.clonefs.cli.common;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Times as people read them in plain output: ISO-8601 instants shown in local time, to the second. */
public final class Times {
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private Times() {
    }

    /** {@code 2025-01-31T11:00:00.123Z} as {@code 2025-01-31 12:00:00} (local zone); "-" for null. */
    public static String local(String isoInstant) {
        if (isoInstant == null || isoInstant.isEmpty()) {
            return "-";
        }
        try {
            return LOCAL.format(Instant.parse(isoInstant).atZone(ZoneId.systemDefault()));
        } catch (DateTimeParseException e) {
            return isoInstant;
        }
    }
}
