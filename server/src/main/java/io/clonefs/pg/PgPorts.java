package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
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
    /** The state of a listening socket in {@code /proc/net/tcp}. */
    private static final String LISTEN = "0A";
    /** Local addresses (as {@code /proc/net/tcp} writes them) whose listeners take a port from 127.0.0.1. */
    private static final Set<String> CONFLICTING = Set.of("00000000", "0100007F", "00000000000000000000000000000000",
            "0000000000000000FFFF00000100007F");

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
     * Refuses a range holding ports another program listens on where servers listen (127.0.0.1,
     * or every address), as {@code /proc/net/tcp} and {@code tcp6} list them: the ports in
     * {@code own} (this pool's servers, which may run) do not count, nor do connections (an
     * outgoing connection's port in the ephemeral range does not keep a server from binding it).
     *
     * @throws PgException.PortInUse naming the ports
     */
    public static void checkFree(String what, int first, int last, Set<Integer> own) {
        checkFree(what, first, last, own, listening());
    }

    static void checkFree(String what, int first, int last, Set<Integer> own, Set<Integer> listening) {
        List<Integer> taken = new ArrayList<>();
        int count = 0;
        for (int p : new TreeSet<>(listening)) {
            if (p >= first && p <= last && !own.contains(p)) {
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

    /** The TCP ports listened on at 127.0.0.1 or every address, now. */
    static Set<Integer> listening() {
        Set<Integer> out = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                out.addAll(listening(Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)));
            } catch (IOException e) {
                // no IPv6, or no /proc: nothing listed there
            }
        }
        return out;
    }

    /** The listening ports of {@code /proc/net/tcp}-style lines whose local address conflicts with 127.0.0.1. */
    public static Set<Integer> listening(List<String> lines) {
        Set<Integer> out = new HashSet<>();
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 4 || !f[3].equals(LISTEN)) {
                continue;
            }
            int colon = f[1].indexOf(':');
            if (colon < 0) {
                continue;
            }
            String addr = f[1].substring(0, colon).toUpperCase(Locale.ROOT);
            if (CONFLICTING.contains(addr)) {
                try {
                    out.add(Integer.parseInt(f[1].substring(colon + 1), 16));
                } catch (NumberFormatException e) {
                    // not a port
                }
            }
        }
        return out;
    }
}
