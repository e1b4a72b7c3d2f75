package io.clonefs.engine;

import io.clonefs.base.Errno;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The process {@link CrashTest} kills. Opens a pool with commits only when asked, clones or creates
 * this round's volumes, then runs {@link Script} from a seed until killed, printing
 * {@code SYNCED N} after each sync point's snapshots are taken.
 *
 * <p>Arguments: {@code POOL SEED ROUND BASE...} where each BASE is the snapshot volume {@code i} of
 * this round is cloned from, or {@code -} for a new empty volume.
 */
public final class CrashChild {
    static final int VOLUMES_PER_ROUND = 3;

    private CrashChild() {
    }

    static String volumeName(int round, int i) {
        return "r" + round + "v" + i;
    }

    /**
     * The deterministic part of a round, shared by the child (with an engine) and the parent (model
     * only): random file operations on this round's volumes and, every few steps, a sync point that
     * snapshots each volume touched since the last one as {@code VOLUME@sN}.
     */
    static final class Script {
        final Model model;
        final OpGenerator gen;
        private final TreeSet<String> touched = new TreeSet<>();
        private int untilSync;
        int syncs;

        Script(long seed, int blockSize, Model initial) {
            this.model = initial;
            this.gen = new OpGenerator(seed, blockSize, false, "");
            this.untilSync = 1 + gen.random().nextInt(20);
        }

        /**
         * Runs one step; with a null engine only the model moves. Returns the sync number when this
         * step was a sync point (its snapshots durable when the engine is given), else 0.
         */
        int step(Engine engine) {
            if (untilSync-- == 0) {
                syncs++;
                for (String vol : touched) {
                    Op snap = new Op(Op.Kind.SNAPSHOT, vol, vol + "@s" + syncs, null, 0, 0, 0, 0, false);
                    if (model.apply(snap) != null) {
                        throw new IllegalStateException("model refused " + snap);
                    }
                    if (engine != null) {
                        engine.snapshot(vol, "s" + syncs);
                    }
                }
                touched.clear();
                untilSync = gen.random().nextInt(25);
                return syncs;
            }
            Op op = gen.next(model);
            // drawn whether or not an engine runs, so that the parent's replay stays in step
            boolean fsync = gen.random().nextInt(10) == 0;
            boolean dataOnly = gen.random().nextBoolean();
            Errno expected = model.apply(op);
            if (engine != null) {
                Errno actual = op.applyTo(engine);
                if (expected != actual) {
                    throw new AssertionError("engine gave " + actual + ", model " + expected + " for " + op);
                }
                if (fsync && expected == null && op.kind() == Op.Kind.WRITE) {
                    VolumeFs fs = engine.volume(op.volume());
                    fs.fsync(fs.resolve(op.path()), dataOnly);
                }
            }
            if (expected == null) {
                touched.add(op.volume());
            }
            return 0;
        }
    }

    /** This round's volumes in a model: each a copy of its base snapshot's tree, or empty. */
    static Model initialModel(int round, List<String> bases, Map<String, Model.Node> baseTrees) {
        Model m = new Model();
        for (int i = 0; i < VOLUMES_PER_ROUND; i++) {
            String base = bases.get(i);
            Model.Node root = base.equals("-") ? Model.newRoot() : Model.deepCopy(baseTrees.get(base));
            m.volumes.put(volumeName(round, i), new Model.Dataset(root, base.equals("-") ? null : base));
        }
        return m;
    }

    public static void main(String[] args) throws Exception {
        Path pool = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int round = Integer.parseInt(args[2]);
        List<String> bases = Arrays.asList(args).subList(3, 3 + VOLUMES_PER_ROUND);
        try (Engine engine = Engine.open(pool, EngineOptions.defaults().withCommitIntervalMillis(0))) {
            dropOldRound(engine, round - 2);
            Map<String, Model.Node> baseTrees = new java.util.HashMap<>();
            for (int i = 0; i < VOLUMES_PER_ROUND; i++) {
                String base = bases.get(i);
                if (base.equals("-")) {
                    engine.createVolume(volumeName(round, i));
                } else {
                    baseTrees.put(base, Trees.load(engine.snapshotFs(base)));
                    engine.cloneVolume(base, volumeName(round, i));
                }
            }
            Script script = new Script(seed, engine.blockSize(), initialModel(round, bases, baseTrees));
            System.out.println("READY");
            System.out.flush();
            for (int step = 0; step < 1_000_000; step++) {
                int n = script.step(engine);
                if (n > 0) {
                    System.out.println("SYNCED " + n);
                    System.out.flush();
                }
            }
            System.out.println("DONE");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        } catch (Throwable t) {
            System.out.println("FAILED " + t);
            System.out.flush();
            t.printStackTrace();
            System.exit(3);
        }
    }

    /** Destroys what round {@code old} left, where nothing depends on it (clones of its snapshots live on). */
    private static void dropOldRound(Engine engine, int old) {
        if (old < 0) {
            return;
        }
        String prefix = "r" + old + "v";
        for (SnapshotInfo s : engine.snapshots()) {
            if (s.name().startsWith(prefix) && s.clones().isEmpty()) {
                engine.destroy(s.name(), false);
            }
        }
        List<String> vols = new ArrayList<>();
        engine.volumes().forEach(v -> vols.add(v.name()));
        for (String v : vols) {
            if (v.startsWith(prefix) && engine.snapshots().stream().noneMatch(s -> s.volume().equals(v))) {
                engine.destroy(v, false);
            }
        }
    }
}
