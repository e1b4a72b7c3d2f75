package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A WAL position as PostgreSQL writes it ({@code 16/B374D848}: two hexadecimal halves of 32 bits). */
public final class PgLsn {
    private static final Pattern LSN = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");

    private PgLsn() {
    }

    /** Reads {@code text}; refuses anything else with one line. */
    public static long parse(String text) {
        Matcher m = text == null ? null : LSN.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw new ClonefsException.InvalidArgument("not an LSN: '" + text + "' (e.g. 16/B374D848, as pg_current_wal_lsn() "
                    + "prints it)");
        }
        return Long.parseLong(m.group(1), 16) << 32 | Long.parseLong(m.group(2), 16);
    }

    /** As PostgreSQL prints it: upper case, no leading zeros. */
    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase();
    }
}
