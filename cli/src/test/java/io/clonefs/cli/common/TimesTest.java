package io.clonefs.cli.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;

/** {@link Times#local} prints what java.time prints, in every zone, also where it reads the instant by hand. */
class TimesTest {
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** What Times.local printed before it read instants by hand. */
    private static String javaTime(String iso) {
        if (iso == null || iso.isEmpty()) {
            return "-";
        }
        try {
            return LOCAL.format(Instant.parse(iso).atZone(ZoneId.systemDefault()));
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    @Test
    void theDaemonsInstantsPrintAsJavaTimePrintsThemInEveryZone() {
        TimeZone saved = TimeZone.getDefault();
        SplittableRandom rnd = new SplittableRandom(15);
        List<String> zones = new ArrayList<>(ZoneId.getAvailableZoneIds());
        zones.add("GMT+05:30");
        zones.add("UTC");
        try {
            for (String zone : zones) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                for (int k = 0; k < 60; k++) {
                    // 1971..2036, whole seconds and fractions of every length Instant.toString writes
                    long sec = rnd.nextLong(31_536_000L, 2_114_380_800L);
                    Instant i = Instant.ofEpochSecond(sec, switch (k % 4) {
                        case 0 -> 0;
                        case 1 -> rnd.nextInt(1000) * 1_000_000;
                        case 2 -> rnd.nextInt(1_000_000) * 1000;
                        default -> rnd.nextInt(1_000_000_000);
                    });
                    String iso = i.toString();
                    assertEquals(javaTime(iso), Times.local(iso), zone + " " + iso);
                }
            }
        } finally {
            TimeZone.setDefault(saved);
        }
    }

    @Test
    void theHandReadingTakesOnlyTheDaemonsShapeAndLeavesTheRestToJavaTime() {
        TimeZone saved = TimeZone.getDefault();
        try {
            TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
            assertNotNull(Times.quick("2025-01-31T11:00:00Z"));
            assertNotNull(Times.quick("2025-01-31T11:00:00.123456789Z"));
            assertEquals("2025-01-31 12:00:00", Times.local("2025-01-31T11:00:00.999Z"));
            assertEquals("2025-07-31 13:00:00", Times.local("2025-07-31T11:00:00Z"));
            for (String s : new String[] {"2025-02-29T11:00:00Z", "2024-02-30T00:00:00Z", "2025-01-31T24:00:00Z",
                "2025-01-31T23:59:60Z", "2025-13-01T00:00:00Z", "2025-01-31T11:00:00.Z", "2025-01-31T11:00:00.1234567890Z",
                "2025-01-31T11:00:00+01:00", "2025-01-31 11:00:00Z", "+12025-01-31T11:00:00Z", "1899-12-31T23:00:00Z",
                "2025-1-31T11:00:00Z", "2025-01-31T1a:00:00Z", "yesterday", "-", "2025-01-31T-1:00:00Z"}) {
                assertNull(Times.quick(s), s);
                assertEquals(javaTime(s), Times.local(s), s);
            }
            assertEquals("-", Times.local(null));
            assertEquals("-", Times.local(""));
        } finally {
            TimeZone.setDefault(saved);
        }
    }
}
