package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 right after fsync returns loses nothing: a child writes 8 KiB records at random offsets
 * of a few files (filling holes, growing files, overwriting; in odd rounds in a fresh clone, whose
 * blocks are shared) and fsyncs each, printing what it fsynced; the parent kills it with SIGKILL
 * at a random moment, reopens the pool and checks that every reported record (or a newer write to
 * the same place) is there, round after round on the same pool. Most of these fsyncs commit by an
 * intent-log append, some by the group commit that runs beside them.
 *
 * <p>{@code -Dclonefs.fsynccrash.rounds=N} (default 6).
 */
class FsyncCrashTest {
    static final int RECORD = 8192;
    static final int FILES = 3;
    static final int SLOTS = 512; // offsets per file: up to 4 MiB

    @TempDir
    Path tmp;

    @Test
    void killedRightAfterFsyncLosesNothing() throws Exception {
        int rounds = Integer.getInteger("clonefs.fsynccrash.rounds", 6);
        Random timing = new Random(20261206L);
        Path pool = tmp.resolve("pool");
        Engine.init(pool, 4096);
        // per volume, per file and slot: the sequence number of the last write reported fsynced
        Map<String, long[]> reported = new HashMap<>();
        long totalFsyncs = 0;
        for (int round = 0; round < rounds; round++) {
            String volume = round % 2 == 0 ? "v" : "c" + round;
            long killAfter = 300 + timing.nextInt(1200);
            List<String> lines = runAndKill(pool, round, volume, killAfter);
            long[] seen = reported.computeIfAbsent(volume, k -> new long[FILES * SLOTS]);
            if (!volume.equals("v")) {
                // a clone starts as v was when the previous round was killed
                System.arraycopy(reported.getOrDefault("v", new long[FILES * SLOTS]), 0, seen, 0, seen.length);
            }
            int fsyncs = 0;
            for (String l : lines) {
                if (l.startsWith("FSYNCED ")) {
                    String[] p = l.split(" ");
                    int i = Integer.parseInt(p[1]) * SLOTS + Integer.parseInt(p[2]);
                    seen[i] = Math.max(seen[i], Long.parseLong(p[3]));
                    fsyncs++;
                }
            }
            totalFsyncs += fsyncs;
            // the write after the last reported fsync was in flight when the kill came: SIGKILL may
            // stop a write(2) between two pages, so that record alone may be torn at a page boundary
            int inFlight = inFlightSlot(round, fsyncs);
            try (Engine e = Engine.open(pool)) {
                EngineModelTest.assertClean(e.fsck(), "round " + round + ": fsck after the kill");
                verify(e.volume("v"), reported.getOrDefault("v", new long[FILES * SLOTS]), "round " + round + ", volume v",
                        volume.equals("v") ? inFlight : -1);
                if (!volume.equals("v")) {
                    verify(e.volume(volume), seen, "round " + round + ", clone " + volume, inFlight);
                    e.destroy(volume, false); // keep the pool small
                    reported.remove(volume);
                }
            }
        }
        assertTrue(totalFsyncs >= rounds * 20L, "only " + totalFsyncs + " fsyncs in " + rounds
                + " rounds: the kills come too early to test anything");
    }

    /**
     * The deterministic case the random rounds found: a write that keeps the file's times (what the
     * kernel's writeback cache sends) copies a shared block on write, then a full {@code fsync}
     * (not {@code fdatasync}); killed right after it returns, with no group commit running.
     */
    @Test
    void aFullFsyncAfterACopyOnWriteThatKeepsTimesIsDurable() throws Exception {
        Path pool = tmp.resolve("pool1");
        Engine.init(pool, 4096);
        for (String mode : List.of("keep-full", "keep-data", "times-full", "times-data")) {
            String volume = "c-" + mode;
            List<String> lines = runAndKill(pool, 0, volume + ":" + mode, 0);
            long[] want = new long[FILES * SLOTS];
            for (String l : lines) {
                if (l.startsWith("FSYNCED ")) {
                    String[] p = l.split(" ");
                    want[Integer.parseInt(p[1]) * SLOTS + Integer.parseInt(p[2])] = Long.parseLong(p[3]);
                }
            }
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("FSYNCED ")), "the child fsynced nothing: " + lines);
            try (Engine e = Engine.open(pool)) {
                verify(e.volume(volume), want, mode, -1);
            }
        }
    }

    /**
     * A small fsync's intent-log record carries the bytes of its block: killed right after the
     * fsync, with those bytes then wiped from the block file (a power cut before the page reached
     * the disk: only the log's append was waited for), the file still reads back whole, from the
     * bytes recovery wrote back.
     */
    @Test
    void aSmallFsyncsBytesComeBackFromTheLog() throws Exception {
        Path pool = tmp.resolve("pool2");
        Engine.init(pool, 4096);
        List<String> lines = runAndKill(pool, 0, "logged", 0);
        assertTrue(lines.contains("FSYNCED 0 0 77"), "the child fsynced nothing: " + lines);
        // the record's bytes, wherever the block files hold them: gone
        byte[] pattern = Child.pattern(77).array();
        int wiped = 0;
        try (java.util.stream.Stream<Path> files = Files.list(pool.resolve("blocks"))) {
            for (Path f : files.filter(x -> x.toString().endsWith(".blk")).toList()) {
                byte[] all = Files.readAllBytes(f);
                for (int at = 0; at + RECORD <= all.length; at += 4096) {
                    if (java.util.Arrays.equals(all, at, at + RECORD, pattern, 0, RECORD)) {
                        java.util.Arrays.fill(all, at, at + RECORD, (byte) 0);
                        wiped++;
                    }
                }
                Files.write(f, all);
            }
        }
        assertEquals(1, wiped, "the record's bytes in the block files");
        long[] want = new long[FILES * SLOTS];
        want[0] = 77;
        try (Engine e = Engine.open(pool)) {
            verify(e.volume("v"), want, "after the bytes were lost from the block file", -1);
        }
    }

    /**
     * The file and slot ({@code file * SLOTS + slot}) of the write the child of {@code round} made
     * after its {@code fsyncs}-th reported fsync: it draws from the same Random as {@link Child}.
     */
    static int inFlightSlot(int round, int fsyncs) {
        Random rnd = new Random(round * 31L + 5);
        for (int i = 0; i < fsyncs; i++) {
            rnd.nextInt(FILES);
            rnd.nextInt(SLOTS);
            rnd.nextBoolean();
            rnd.nextBoolean();
        }
        int f = rnd.nextInt(FILES);
        return f * SLOTS + rnd.nextInt(SLOTS);
    }

    /**
     * Every slot holds a whole record with a sequence at least the one reported (zeros if none
     * was). Slot {@code inFlight} (or -1), the write no fsync covered when the child was killed,
     * may be torn at a 4 KiB page boundary: each page of it whole, none older than reported.
     */
    private static void verify(VolumeFs fs, long[] reported, String what, int inFlight) {
        for (int f = 0; f < FILES; f++) {
            InodeId ino;
            try {
                ino = fs.resolve("f" + f);
            } catch (RuntimeException e) {
                for (int s = 0; s < SLOTS; s++) {
                    assertEquals(0, reported[f * SLOTS + s], what + ": file f" + f + " is missing");
                }
                continue;
            }
            long size = fs.getattr(ino).size();
            for (int s = 0; s < SLOTS; s++) {
                long want = reported[f * SLOTS + s];
                ByteBuffer b = ByteBuffer.allocate(RECORD);
                if ((long) s * RECORD < size) {
                    fs.read(ino, (long) s * RECORD, b);
                }
                b.flip();
                long got = 0;
                if (b.remaining() == RECORD) {
                    got = b.getLong(0);
                    int page = f * SLOTS + s == inFlight ? 4096 : RECORD;
                    for (int i = 0; i < RECORD; i += 8) {
                        if (i % page == 0) {
                            got = Math.min(got, b.getLong(i)); // each page of a torn in-flight record is checked
                        }
                        if (b.getLong(i) != b.getLong(i - i % page)) {
                            fail(what + ": f" + f + " slot " + s + " is torn at byte " + i
                                    + (page < RECORD ? " inside a page" : ""));
                        }
                    }
                    if (page < RECORD && b.getLong(0) != b.getLong(page)) {
                        System.out.println(what + ": the in-flight record f" + f + " slot " + s + " is torn at byte "
                                + page + " (" + b.getLong(0) + " / " + b.getLong(page) + ")");
                    }
                }
                if (got < want) {
                    fail(what + ": f" + f + " slot " + s + " holds write " + got + " but write " + want
                            + " was reported fsynced");
                }
            }
        }
    }

    private List<String> runAndKill(Path pool, int round, String volume, long killAfterMs) throws Exception {
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-Dclonefs.metadata.noIntentLog=" + Boolean.getBoolean("clonefs.metadata.noIntentLog"),
                "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), pool.toString(), Integer.toString(round), volume);
        Path err = tmp.resolve("child-" + round + ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the pipe breaks when the child dies
            }
        }, "fsync-child-reader");
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String await = killAfterMs == 0 ? "DONE" : "READY"; // 0: kill once the child has done its one fsync
        while (!lines.contains(await) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread.sleep(killAfterMs);
        boolean alive = p.isAlive();
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child did not die");
        reader.join(10_000);
        if (!alive || !lines.contains("READY")) {
            fail("fsync child of round " + round + " ended before the kill: " + lines + "\n"
                    + (Files.exists(err) ? Files.readString(err) : ""));
        }
        synchronized (lines) {
            return new ArrayList<>(lines);
        }
    }

    /** Writes and fsyncs records until killed; prints {@code FSYNCED file slot seq} after each fsync returns. */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            Path pool = Path.of(args[0]);
            int round = Integer.parseInt(args[1]);
            if (args[2].equals("logged")) {
                logged(pool);
                return;
            }
            if (args[2].contains(":")) {
                once(pool, args[2].substring(0, args[2].indexOf(':')), args[2].substring(args[2].indexOf(':') + 1));
                return;
            }
            String volume = args[2];
            Random rnd = new Random(round * 31L + 5);
            try (Engine e = Engine.open(pool)) {
                if (e.volumes().stream().noneMatch(v -> v.name().equals("v"))) {
                    e.createVolume("v");
                }
                if (!volume.equals("v")) {
                    e.snapshot("v", "s" + round);
                    e.cloneVolume("v@s" + round, volume);
                }
                VolumeFs fs = e.volume(volume);
                InodeId[] files = new InodeId[FILES];
                for (int f = 0; f < FILES; f++) {
                    try {
                        files[f] = fs.resolve("f" + f);
                    } catch (RuntimeException missing) {
                        files[f] = fs.create(InodeId.ROOT, "f" + f, 0644, 0, 0).ino();
                    }
                }
                System.out.println("READY");
                System.out.flush();
                long seq = (round + 1) * 1_000_000L;
                while (true) {
                    int f = rnd.nextInt(FILES);
                    int slot = rnd.nextInt(SLOTS);
                    seq++;
                    ByteBuffer b = ByteBuffer.allocate(RECORD);
                    while (b.hasRemaining()) {
                        b.putLong(seq);
                    }
                    b.flip();
                    if (rnd.nextBoolean()) {
                        fs.write(files[f], (long) slot * RECORD, b);
                    } else {
                        fs.writeKeepingTimes(files[f], (long) slot * RECORD, b);
                    }
                    fs.fsync(files[f], rnd.nextBoolean());
                    System.out.println("FSYNCED " + f + " " + slot + " " + seq);
                    System.out.flush();
                }
            }
        }

        /** A record of {@code seq}: the long repeated. */
        static ByteBuffer pattern(long seq) {
            ByteBuffer b = ByteBuffer.allocate(RECORD);
            while (b.hasRemaining()) {
                b.putLong(seq);
            }
            return b.flip();
        }

        /** One record written into a new file of v and fsync'd; no group commit runs. Prints DONE and waits to be killed. */
        static void logged(Path pool) throws InterruptedException {
            try (Engine e = Engine.open(pool, EngineOptions.defaults().withCommitIntervalMillis(0))) {
                e.createVolume("v");
                e.sync();
                VolumeFs fs = e.volume("v");
                InodeId ino = fs.create(InodeId.ROOT, "f0", 0644, 0, 0).ino();
                fs.writeKeepingTimes(ino, 0, pattern(77));
                fs.fsync(ino, false);
                System.out.println("FSYNCED 0 0 77");
                System.out.println("READY");
                System.out.println("DONE");
                System.out.flush();
                Thread.sleep(600_000);
            }
        }

        /**
         * One file laid out and committed in v, a snapshot and a clone of it; then one write into
         * the clone ({@code keep-*}: keeping times, {@code times-*}: setting them) and one fsync
         * ({@code *-full} or {@code *-data}); no group commit runs. Prints DONE and waits to be killed.
         */
        static void once(Path pool, String volume, String mode) throws InterruptedException {
            try (Engine e = Engine.open(pool, EngineOptions.defaults().withCommitIntervalMillis(0))) {
                if (e.volumes().stream().noneMatch(v -> v.name().equals("v"))) {
                    e.createVolume("v");
                    VolumeFs v = e.volume("v");
                    InodeId ino = v.create(InodeId.ROOT, "f0", 0644, 0, 0).ino();
                    ByteBuffer b = ByteBuffer.allocate(RECORD * 4);
                    while (b.hasRemaining()) {
                        b.putLong(1);
                    }
                    b.flip();
                    v.write(ino, 0, b);
                    e.sync();
                }
                e.snapshot("v", "s-" + volume);
                e.cloneVolume("v@s-" + volume, volume);
                e.sync();
                VolumeFs fs = e.volume(volume);
                InodeId ino = fs.resolve("f0");
                ByteBuffer b = ByteBuffer.allocate(RECORD);
                while (b.hasRemaining()) {
                    b.putLong(42);
                }
                b.flip();
                if (mode.startsWith("keep")) {
                    fs.writeKeepingTimes(ino, RECORD, b);
                } else {
                    fs.write(ino, RECORD, b);
                }
                fs.fsync(ino, mode.endsWith("data"));
                System.out.println("FSYNCED 0 1 42");
                System.out.println("READY");
                System.out.println("DONE");
                System.out.flush();
                Thread.sleep(600_000);
            }
        }
    }
}
