package io.clonefs.pg;

import io.clonefs.base.ByteSizes;
import io.clonefs.base.ClonefsException;
import java.nio.file.Path;

/**
 * How much of the host's memory the branch manager keeps free when it starts a server
 * ({@link PgAdmission}).
 *
 * @param floor     bytes of {@code MemAvailable} that must remain after a server starts; 0 turns
 *                  admission off; {@link #AUTO} (the default) is 5 % of the host's RAM, at least
 *                  256 MiB and at most 2 GiB
 * @param perServer what a server without a memory limit of its own is assumed to take once it runs
 *                  (a server with one is assumed to take its limit)
 * @param meminfo   where {@code MemTotal} and {@code MemAvailable} are read ({@code /proc/meminfo};
 *                  another file laid out like it in tests)
 */
public record PgMemory(long floor, long perServer, Path meminfo) {
    /** The floor is 5 % of the host's RAM, between 256 MiB and 2 GiB. */
    public static final long AUTO = -1;
    /** What a small server is assumed to take: its 32 MB shared_buffers once used, and its processes. */
    public static final long DEFAULT_PER_SERVER = 64L << 20;
    public static final Path PROC_MEMINFO = Path.of("/proc/meminfo");

    public PgMemory {
        if (floor < AUTO) {
            throw new ClonefsException.InvalidArgument("a memory floor must be a size, 0 (off) or automatic");
        }
        if (perServer < 0) {
            throw new ClonefsException.InvalidArgument("the memory assumed per server must not be negative");
        }
        if (meminfo == null) {
            throw new ClonefsException.InvalidArgument("no meminfo file");
        }
    }

    public static PgMemory defaults() {
        return new PgMemory(AUTO, DEFAULT_PER_SERVER, PROC_MEMINFO);
    }

    public PgMemory withFloor(long bytes) {
        return new PgMemory(bytes, perServer, meminfo);
    }

    /** {@code {MemTotal, MemAvailable}} in bytes from {@link #meminfo()}, or null when it cannot be read. */
    public long[] read() {
        return PgAdmission.readMeminfo(meminfo);
    }

    /** The floor on a host with {@code totalBytes} of RAM. */
    public long floorFor(long totalBytes) {
        if (floor != AUTO) {
            return floor;
        }
        return Math.min(2L << 30, Math.max(256L << 20, totalBytes / 20));
    }

    /**
     * Parses {@code CLONEFS_PG_MEMORY_FLOOR}: a size ({@code 1GiB}, {@code 512M}), {@code 0} (off) or
     * {@code auto}.
     */
    public static long parseFloor(String s) {
        String t = s.strip();
        if (t.equalsIgnoreCase("auto")) {
            return AUTO;
        }
        try {
            return ByteSizes.parse(t);
        } catch (ClonefsException.InvalidArgument e) {
            throw new ClonefsException.InvalidArgument("'" + s + "' is not a memory floor (a size such as 1GiB, 0 for off, or auto)");
        }
    }
}
