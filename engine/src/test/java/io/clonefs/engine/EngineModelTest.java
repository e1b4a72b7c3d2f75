package io.clonefs.engine;

import io.clonefs.base.Errno;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-based randomized test: the same random operation sequence is applied to the engine and to
 * {@link Model}, and their states are compared (the touched dataset after every step, the whole
 * pool every {@value #FULL_CHECK_EVERY} steps, after every reopen and at the end).
 *
 * <p>The block size (4096 or 8192) and the engine options follow from the seed. Replay one run with
 * {@code -Dclonefs.seed=N -Dclonefs.steps=M} (the failure message prints both).
 */
class EngineModelTest {
    private static final int FULL_CHECK_EVERY = 50;
    private static final int DEFAULT_STEPS = 1200;
    private static final int DEFAULT_SEEDS = 8;

    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> randomRuns() {
        Long seed = Long.getLong("clonefs.seed");
        int steps = Integer.getInteger("clonefs.steps", DEFAULT_STEPS);
        LongStream seeds = seed != null ? LongStream.of(seed)
                : LongStream.rangeClosed(1, Integer.getInteger("clonefs.seeds", DEFAULT_SEEDS));
        return seeds.mapToObj(s -> DynamicTest.dynamicTest("seed " + s, () -> run(s, steps, seed == null)));
    }

    static int blockSizeFor(long seed) {
        return seed % 2 == 0 ? 8192 : 4096;
    }

    private static EngineOptions optionsFor(long seed) {
        // every third seed commits early and often, to exercise the commit path under load
        return seed % 3 == 0 ? EngineOptions.defaults().withMaxDirtyNodes(64) : EngineOptions.defaults();
    }

    private void run(long seed, int steps, boolean requireManyVolumes) throws Exception {
        Path dir = tmp.resolve("pool-" + seed);
        int bs = blockSizeFor(seed);
        Engine.init(dir, bs);
        Engine engine = Engine.open(dir, optionsFor(seed));
        Model model = new Model();
        OpGenerator gen = new OpGenerator(seed, bs, true, "");
        Deque<String> recent = new ArrayDeque<>();
        int step = 0;
        Op op = null;
        try {
            for (step = 1; step <= steps; step++) {
                op = gen.next(model);
                recent.addLast(step + ": " + op);
                if (recent.size() > 15) {
                    recent.removeFirst();
                }
                Errno expected = model.apply(op);
                Errno actual;
                if (op.kind() == Op.Kind.REOPEN) {
                    engine.close();
                    engine = Engine.open(dir, optionsFor(seed));
                    actual = null;
                } else {
                    actual = op.applyTo(engine);
                }
                Trees.assertEq(expected, actual, "outcome (null = success) of " + op);
                check(model, engine, op, step % FULL_CHECK_EVERY == 0);
            }
            op = null;
            Trees.assertPool(model, engine);
            assertClean(engine.fsck(), "fsck at the end");
            engine.close();
            engine = Engine.open(dir, optionsFor(seed));
            Trees.assertPool(model, engine);
            assertTrue(engine.awaitReclaim(Duration.ofSeconds(30)), "reclaim did not drain within 30 s");
            assertClean(engine.fsck(), "fsck after reopen and reclaim");
            Trees.assertPool(model, engine);
            if (requireManyVolumes) {
                assertTrue(gen.volumesMade >= 20, "the run made only " + gen.volumesMade + " volumes/clones");
            }
        } catch (Throwable t) {
            String where = op == null ? "at the final checks after " + steps + " steps" : "at step " + step + " (" + op + ")";
            throw new AssertionError("model test failed: seed " + seed + " (block size " + bs + ") " + where
                    + "\n  replay: -Dclonefs.seed=" + seed + " -Dclonefs.steps=" + Math.min(step, steps)
                    + "\n  last ops:\n    " + String.join("\n    ", recent)
                    + "\n  cause: " + t, t);
        } finally {
            engine.close();
        }
    }

    private static void check(Model model, Engine engine, Op op, boolean full) {
        if (full || op.kind() == Op.Kind.REOPEN || op.kind() == Op.Kind.DESTROY) {
            Trees.assertPool(model, engine);
            if (op.kind() == Op.Kind.REOPEN) {
                assertClean(engine.fsck(), "fsck after reopen");
            }
            return;
        }
        Trees.assertDataset(model, engine, op.volume());
        if (op.kind() == Op.Kind.SNAPSHOT || op.kind() == Op.Kind.CLONE) {
            Trees.assertDataset(model, engine, op.path());
        }
    }

    static void assertClean(FsckReport r, String what) {
        if (!r.clean()) {
            throw new AssertionError(what + ": fsck found " + r.problems().size() + " problems:\n  "
                    + String.join("\n  ", r.problems().subList(0, Math.min(20, r.problems().size()))));
        }
    }
}
