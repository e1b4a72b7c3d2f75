package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.it.reliability.CrashLoop;
import io.clonefs.it.support.MountedPool;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The short crash loop of issue 7 (see {@link CrashLoop}): PostgreSQL on a volume of the real
 * daemon, snapshots/clones/destroys at the same time, {@code kill -9} of both at a random moment,
 * remount, recovery and every check. {@code -Dclonefs.crash.rounds=N} (default 3),
 * {@code -Dclonefs.crash.seed=S}; the long run is {@code scripts/crash-test.sh}.
 */
class PgCrashLoopIT {
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("crashloop").noPool().build();

    @Test
    void everyRoundKeepsAcknowledgedCommitsSnapshotsAndConsistency() {
        int rounds = Integer.getInteger("clonefs.crash.rounds", 3);
        long seed = Long.getLong("clonefs.crash.seed", System.nanoTime());
        CrashLoop.Report r = new CrashLoop(pools.ws(), seed, System.out).run(rounds);
        System.out.println(r.summary());
        assertEquals(List.of(), r.failures(), r.summary());
        assertEquals(rounds, r.roundsPassed(), r.summary());
        assertTrue(r.acknowledgedCommits() > 0, r.summary());
        assertTrue(r.snapshotsTaken() > 0, "no snapshot was taken: " + r.summary());
    }
}
