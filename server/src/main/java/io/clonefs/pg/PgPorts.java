package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import io.clonefs.pg.process.Postgres;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The range of TCP ports managed servers get their ports from ({@link PgOptions#firstPort()} ..
 * {@link PgOptions#lastPort()}; {@code CLONEFS_PG_PORTS=FIRST-LAST} for the daemon): parsed and
 * checked here. The default, 54400-55399, holds 1000 servers.
 */
public final class PgPorts {
    private static final Pattern RANGE = Pattern.compile("\\s*(\\d{1,5})\\s*-\\s*(\\d{1,5})\\s*");
    /** How many ports in use an error names before it says "and N more". */
    private static final int NAMED = 5;

    private PgPorts() {
    }

    /**
     * {@code FIRST-LAST} as two ports, checked: both 1..65535, FIRST at most LAST.
     *
     * @param what what the range is called in the message (e.g. {@code CLONEFS_PG_PORTS})
     * @throws ClonefsException.InvalidArgument naming what is wrong
     */
    public static int[] parseRange(String what, String range) {
        Matcher m = RANGE.matcher(range == null ? "" : range);
        if (!m.matches()) {
            throw new ClonefsException.InvalidArgument(what + " must be FIRST-LAST, e.g. 54400-55399, not '" + range + "'");
        }
        int first = Integer.parseInt(m.group(1));
        int last = Integer.parseInt(m.group(2));
        check(what, first, last);
        return new int[] {first, last};
    }

    /** Refuses ports outside 1..65535 and a reversed range. */
    static void check(String what, int first, int last) {
        if (first < 1 || first > 65535 || last < 1 || last > 65535) {
            throw new ClonefsException.InvalidArgument(what + " " + first + "-" + last + " is not a range of TCP ports (1-65535)");
        }
        if (first > last) {
            throw new ClonefsException.InvalidArgument(what + " " + first + "-" + last + " is reversed: FIRST must not be above LAST");
        }
    }

    /**
     * Refuses a range holding ports that another program listens on (on 127.0.0.1, where servers
     * listen): the ports in {@code own} (this pool's servers, which may run) do not count.
     *
     * @throws PgException.PortInUse naming the ports
     */
    public static void checkFree(String what, int first, int last, Set<Integer> own) {
        List<Integer> taken = new ArrayList<>();
        int count = 0;
        for (int p = first; p <= last; p++) {
            if (!own.contains(p) && !Postgres.portFree(p)) {
                count++;
                if (taken.size() < NAMED) {
                    taken.add(p);
                }
            }
        }
        if (count > 0) {
            throw new PgException.PortInUse(what + " " + first + "-" + last + " overlaps "
                    + (count == 1 ? "port " : "ports ") + taken.stream().map(String::valueOf).collect(Collectors.joining(", "))
                    + (count > taken.size() ? " and " + (count - taken.size()) + " more" : "")
                    + " in use by other programs on 127.0.0.1; choose a range without them");
        }
    }
}
