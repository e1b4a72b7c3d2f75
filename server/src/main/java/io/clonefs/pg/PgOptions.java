package io.clonefs.pg;

import io.clonefs.base.ClonefsException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the branch manager runs PostgreSQL.
 *
 * @param binDir       directory of {@code initdb}, {@code pg_ctl}, {@code pg_basebackup}
 * @param osUser       the OS user servers run as (PostgreSQL refuses root)
 * @param firstPort    first port of the range new servers get a port from
 * @param lastPort     last port of that range (inclusive)
 * @param tick         how often the scheduler checks expiries and scheduled snapshots
 * @param startTimeout how long a server may take to start (crash recovery included)
 * @param suspendAfter the pool's default idle time after which a branch is suspended (a branch's
 *                     own {@code --suspend-after} wins); {@link Duration#ZERO} never (the default)
 * @param memory       how much of the host's memory is kept free when a server starts ({@link PgAdmission})
 */
public record PgOptions(Path binDir, String osUser, int firstPort, int lastPort, Duration tick, Duration startTimeout,
                        Duration suspendAfter, PgMemory memory) {
    public static final Path DEFAULT_BIN = Path.of("/usr/lib/postgresql/15/bin");
    public static final int DEFAULT_FIRST_PORT = 54400;
    /** 1000 ports: room for hundreds of servers. */
    public static final int DEFAULT_LAST_PORT = 55399;

    public PgOptions {
        PgPorts.check("port range", firstPort, lastPort);
        if (tick.isNegative() || tick.isZero() || startTimeout.isNegative() || startTimeout.isZero()) {
            throw new ClonefsException.InvalidArgument("tick and start timeout must be positive");
        }
        if (suspendAfter == null || suspendAfter.isNegative()) {
            throw new ClonefsException.InvalidArgument("the default idle time before a suspend must be 0 (never) or positive");
        }
        if (memory == null) {
            memory = PgMemory.defaults();
        }
    }

    /** With the default memory floor. */
    public PgOptions(Path binDir, String osUser, int firstPort, int lastPort, Duration tick, Duration startTimeout,
                     Duration suspendAfter) {
        this(binDir, osUser, firstPort, lastPort, tick, startTimeout, suspendAfter, PgMemory.defaults());
    }

    /** Without a default idle time: branches are never suspended unless told. */
    public PgOptions(Path binDir, String osUser, int firstPort, int lastPort, Duration tick, Duration startTimeout) {
        this(binDir, osUser, firstPort, lastPort, tick, startTimeout, Duration.ZERO, PgMemory.defaults());
    }

    /** PostgreSQL 15 from Debian's packages, user {@code postgres}, ports 54400-55399. */
    public static PgOptions defaults() {
        return new PgOptions(DEFAULT_BIN, "postgres", DEFAULT_FIRST_PORT, DEFAULT_LAST_PORT, Duration.ofSeconds(1),
                Duration.ofMinutes(10));
    }

    public PgOptions withPorts(int first, int last) {
        return new PgOptions(binDir, osUser, first, last, tick, startTimeout, suspendAfter, memory);
    }

    public PgOptions withTick(Duration t) {
        return new PgOptions(binDir, osUser, firstPort, lastPort, t, startTimeout, suspendAfter, memory);
    }

    public PgOptions withStartTimeout(Duration t) {
        return new PgOptions(binDir, osUser, firstPort, lastPort, tick, t, suspendAfter, memory);
    }

    public PgOptions withSuspendAfter(Duration d) {
        return new PgOptions(binDir, osUser, firstPort, lastPort, tick, startTimeout, d, memory);
    }

    public PgOptions withMemory(PgMemory m) {
        return new PgOptions(binDir, osUser, firstPort, lastPort, tick, startTimeout, suspendAfter, m);
    }
}
