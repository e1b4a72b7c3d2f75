package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a {@link CrashChild} with SIGKILL at random moments, round after round on the same pool,
 * and checks after each reopen: fsck clean, every snapshot the child reported synced exists with
 * exactly the contents the model gives at that sync point, and every live volume reads in full.
 *
 * <p>{@code -Dclonefs.crash.rounds=N} (default 15), {@code -Dclonefs.crash.seed=S}.
 */
class CrashTest {
    @TempDir
    Path tmp;

    /** Expected tree of every snapshot reported synced, with the round that made it. */
    private final Map<String, Model.Node> expected = new LinkedHashMap<>();
    private final Map<String, Integer> roundOf = new HashMap<>();

    @Test
    void killedAtRandomMomentsSnapshotsSurvive() throws Exception {
        int rounds = Integer.getInteger("clonefs.crash.rounds", 15);
        long seed = Long.getLong("clonefs.crash.seed", 20240611L);
        Random timing = new Random(seed);
        Path pool = tmp.resolve("pool");
        Engine.init(pool, 4096);
        List<String> bases = List.of("-", "-", "-");
        int totalSyncs = 0;
        for (int round = 0; round < rounds; round++) {
            long roundSeed = seed * 1000 + round;
            String what = "crash round " + round + " (seed " + seed + ", round seed " + roundSeed + ")";
            Map<String, Model.Node> baseTrees = new HashMap<>();
            try (Engine e = Engine.open(pool)) {
                for (String b : bases) {
                    if (!b.equals("-")) {
                        baseTrees.put(b, Trees.load(e.snapshotFs(b)));
                    }
                }
            }
            long killAfterMs = timing.nextInt(5) == 0 ? timing.nextInt(400) : 200 + timing.nextInt(1100);
            Child child = runAndKill(pool, roundSeed, round, bases, killAfterMs);
            totalSyncs += child.synced;

            // replay the round in the model up to the last sync point the child reported
            CrashChild.Script script = new CrashChild.Script(roundSeed, 4096,
                    CrashChild.initialModel(round, bases, baseTrees));
            if (child.ready) {
                while (script.syncs < child.synced) {
                    script.step(null);
                }
                for (Map.Entry<String, Model.Dataset> s : script.model.snapshots.entrySet()) {
                    expected.put(s.getKey(), s.getValue().root);
                    roundOf.put(s.getKey(), round);
                }
            }

            try (Engine e = Engine.open(pool)) {
                EngineModelTest.assertClean(e.fsck(), what + ": fsck after the kill");
                verify(e, round, what);
                List<String> next = new ArrayList<>();
                for (int i = 0; i < CrashChild.VOLUMES_PER_ROUND; i++) {
                    String vol = CrashChild.volumeName(round, i);
                    String last = "-";
                    for (String s : expected.keySet()) {
                        if (s.startsWith(vol + "@")) {
                            last = s; // in sync order
                        }
                    }
                    next.add(last);
                }
                bases = next;
                System.out.printf("crash round %d: %s after %d sync points, %d snapshots checked, next bases %s%n",
                        round, child.ready ? "killed" : "killed before READY", child.synced, expected.size(), bases);
            } catch (Throwable t) {
                throw new AssertionError(what + " failed after " + child.synced + " sync points (child stderr: "
                        + child.stderr + "): " + t, t);
            }
        }
        assertTrue(totalSyncs >= rounds, "the children reported only " + totalSyncs + " sync points in "
                + rounds + " rounds: the kills come too early to test anything");
        try (Engine e = Engine.open(pool)) {
            assertTrue(e.awaitReclaim(java.time.Duration.ofSeconds(30)));
            EngineModelTest.assertClean(e.fsck(), "fsck at the end");
        }
    }

    private void verify(Engine e, int round, String what) {
        Map<String, SnapshotInfo> present = new HashMap<>();
        e.snapshots().forEach(s -> present.put(s.name(), s));
        for (Map.Entry<String, Model.Node> s : expected.entrySet()) {
            boolean mustExist = roundOf.get(s.getKey()) >= round - 1; // older rounds are dropped by the child
            if (!present.containsKey(s.getKey())) {
                if (mustExist) {
                    fail(what + ": snapshot " + s.getKey() + " was reported synced but is missing");
                }
                continue;
            }
            try {
                Trees.assertTree(s.getValue(), e.snapshotFs(s.getKey()));
            } catch (AssertionError err) {
                throw new AssertionError(what + ": synced snapshot " + s.getKey() + " differs: " + err.getMessage(), err);
            }
        }
        for (VolumeInfo v : e.volumes()) {
            Trees.load(e.volume(v.name())); // every live volume must read in full without error
        }
        for (String s : present.keySet()) {
            Trees.load(e.snapshotFs(s));
        }
    }

    /** What a killed child reported. */
    private record Child(boolean ready, int synced, String stderr) {
    }

    private Child runAndKill(Path pool, long seed, int round, List<String> bases, long killAfterMs)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:ErrorFile=" + Path.of(System.getProperty("java.io.tmpdir"), "clonefs-crash-child-hs_err_%p.log"),
                "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), pool.toString(), Long.toString(seed), Integer.toString(round)));
        cmd.addAll(bases);
        Path err = tmp.resolve("child-" + round + ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        CountDownLatch ready = new CountDownLatch(1);
        AtomicInteger synced = new AtomicInteger();
        AtomicReference<String> failed = new AtomicReference<>();
        StringBuffer other = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.equals("READY")) {
                        ready.countDown();
                    } else if (line.startsWith("SYNCED ")) {
                        int n = Integer.parseInt(line.substring(7));
                        if (n != synced.get() + 1) {
                            failed.set("sync points out of order: " + line + " after " + synced.get());
                        }
                        synced.set(n);
                    } else if (line.startsWith("FAILED")) {
                        failed.set(line);
                        ready.countDown();
                    } else if (!line.equals("DONE")) {
                        other.append(line).append('\n'); // e.g. the JVM's report of a native crash
                    }
                }
            } catch (IOException ignored) {
                // the pipe breaks when the child dies
            }
        }, "crash-child-reader");
        reader.start();
        boolean wasReady;
        if (killAfterMs < 400 && round % 2 == 1) {
            Thread.sleep(killAfterMs); // kill while it may still be starting, cloning or dropping
            wasReady = ready.getCount() == 0;
        } else {
            wasReady = ready.await(60, TimeUnit.SECONDS);
            Thread.sleep(killAfterMs);
        }
        boolean exitedEarly = !p.isAlive();
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child did not die");
        reader.join(10_000);
        String stderr = Files.exists(err) ? tail(Files.readString(err)) : "";
        if (failed.get() != null || exitedEarly) {
            fail("crash child of round " + round + " (round seed " + seed + ") failed before the kill: " + failed.get()
                    + " exit " + p.exitValue() + "\n" + tail(other.toString()) + "\n" + stderr);
        }
        boolean readyAtKill = wasReady || ready.getCount() == 0;
        return new Child(readyAtKill, synced.get(), stderr);
    }

    private static String tail(String s) {
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }
}
