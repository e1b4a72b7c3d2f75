package io.clonefs.base;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as people write and read them: {@code 8K}, {@code 64k}, {@code 1MiB}, {@code 2GB} in;
 * {@code 1.5 GiB} out. The one size parser, for the command line and the daemon alike.
 */
public final class ByteSizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)(i?b)?", Pattern.CASE_INSENSITIVE);
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private ByteSizes() {
    }

    /** Parses a size; the suffixes K, M, G, T (any case, optionally followed by B or iB) are binary. */
    public static long parse(String s) {
        Matcher m = SIZE.matcher(s == null ? "" : s.trim());
        if (!m.matches()) {
            throw new ClonefsException.InvalidArgument("'" + s + "' is not a size (examples: 8K, 64k, 1M, 8192)");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new ClonefsException.InvalidArgument("'" + s + "' is too large");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new ClonefsException.InvalidArgument("'" + s + "' is too large");
        }
        return n << shift;
    }

    /** Formats bytes in binary units with at most one decimal: {@code 0 B}, {@code 8 KiB}, {@code 1.5 GiB}. */
    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < UNITS.length - 1) {
            v /= 1024;
            u++;
        }
        String num = v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v)
                : String.format(Locale.ROOT, "%.1f", v);
        return num + " " + UNITS[u];
    }
}
