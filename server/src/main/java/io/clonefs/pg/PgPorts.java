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

    /** The kernel's ephemeral port range (outgoing connections' local ports). */
    static final Path EPHEMERAL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    /** Ports the kernel never picks as ephemeral ones (a bind names them still). */
    static final Path RESERVED = Path.of("/proc/sys/net/ipv4/ip_local_reserved_ports");

    /**
     * Keeps outgoing connections off the servers' ports: a port of the range that an outgoing
     * connection took as its local port cannot be bound by a server until that connection closes
     * (a start fails with "port in use"), and the default range lies inside Linux's default
     * ephemeral range (32768-60999). So the part of the range inside the ephemeral range is added
     * to {@code net.ipv4.ip_local_reserved_ports} (kept after the unmount, as a {@code sysctl.d}
     * line would). Returns what was done, for the log (null: nothing to do); never throws.
     */
    public static Reservation reserve(int first, int last) {
        return reserve(first, last, EPHEMERAL, RESERVED);
    }

    /** What {@link #reserve} did: a line for the log, a warning when it could not reserve. */
    public record Reservation(String message, boolean warning) {
    }

    static Reservation reserve(int first, int last, Path ephemeralFile, Path reservedFile) {
        int[] eph;
        String current;
        try {
            String[] f = readProc(ephemeralFile).split("\\s+");
            eph = new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
            current = readProc(reservedFile);
        } catch (IOException | RuntimeException e) {
            return null; // not Linux, or no such files: nothing to do
        }
        int lo = Math.max(first, eph[0]);
        int hi = Math.min(last, eph[1]);
        if (lo > hi) {
            return null; // outside the ephemeral range
        }
        String merged = mergeReserved(current, lo, hi);
        if (merged.equals(current)) {
            return null;
        }
        try {
            Files.writeString(reservedFile, merged + "\n", StandardCharsets.US_ASCII);
            return new Reservation("reserved ports " + lo + "-" + hi + " (in the kernel's ephemeral range " + eph[0] + "-"
                    + eph[1] + ") for the servers: net.ipv4.ip_local_reserved_ports = " + merged, false);
        } catch (IOException | RuntimeException e) {
            return new Reservation("ports " + lo + "-" + hi + " lie in the kernel's ephemeral range " + eph[0] + "-" + eph[1]
                    + ": an outgoing connection may take one and keep a server from starting; cannot reserve them ("
                    + e.getMessage() + "): run sysctl -w net.ipv4.ip_local_reserved_ports=" + merged, true);
        }
    }

    /**
     * A {@code /proc} file's text, trimmed: read to its end ({@code Files.readString} trusts the
     * size, which procfs reports as 0, and returned one byte of {@code ip_local_port_range}).
     */
    private static String readProc(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
    }

    /**
     * {@code current} (a {@code ip_local_reserved_ports} value: {@code 8080,9148-9149}, or empty)
     * with {@code lo-hi} added, ranges merged and sorted; {@code current} itself when it already
     * covers them.
     */
    static String mergeReserved(String current, int lo, int hi) {
        List<int[]> ranges = new ArrayList<>();
        for (String part : current.split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            int dash = t.indexOf('-');
            int a = Integer.parseInt(dash < 0 ? t : t.substring(0, dash).trim());
            int b = dash < 0 ? a : Integer.parseInt(t.substring(dash + 1).trim());
            ranges.add(new int[] {a, b});
        }
        for (int[] r : ranges) {
            if (r[0] <= lo && hi <= r[1]) {
                return current;
            }
        }
        ranges.add(new int[] {lo, hi});
        ranges.sort((x, y) -> Integer.compare(x[0], y[0]));
        List<int[]> out = new ArrayList<>();
        for (int[] r : ranges) {
            int[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && r[0] <= last[1] + 1) {
                last[1] = Math.max(last[1], r[1]);
            } else {
                out.add(new int[] {r[0], r[1]});
            }
        }
        return out.stream().map(r -> r[0] == r[1] ? Integer.toString(r[0]) : r[0] + "-" + r[1])
                .collect(Collectors.joining(","));
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
