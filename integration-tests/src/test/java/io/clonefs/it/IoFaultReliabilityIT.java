package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clonefs.base.ClonefsException;
import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import io.clonefs.base.Errno;
import io.clonefs.engine.FsckReport;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import io.clonefs.fuse.Mount;
import io.clonefs.fuse.MountOptions;
import io.clonefs.it.reliability.FaultyBlockStore;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Injected I/O faults (issue 7 §3): a {@link FaultyBlockStore} under the engine fails block reads,
 * writes (sometimes torn) and syncs at random. Through the engine and through a real kernel mount:
 * a failure reaches the caller as EIO, a read that succeeds always returns exactly the model's
 * bytes (never wrong data), the bytes a failed write covered read back old-or-new, snapshots stay
 * frozen, {@code engine.fsck()} stays clean, and after closing and reopening the pool without faults
 * everything matches the model. {@code -Dclonefs.fault.seed=S} repeats a run;
 * {@code -Dclonefs.fault.steps=N} makes it longer.
 */
class IoFaultReliabilityIT {
    private static final int BS = Engine.DEFAULT_BLOCK_SIZE;
    private static final int MAX_SIZE = 320 * 1024;

    /** Each test opens (and reopens) its own engine and mount; the extension closes and unmounts them. */
    @RegisterExtension
    final MountedPool pools = MountedPool.inProcess("iofault").unmounted().build();
    private Engine engine;
    private Mount mount;
    private Path mnt;

    /** Volume name -> file name -> bytes; snapshots under their full name. */
    private final Map<String, Map<String, byte[]>> model = new TreeMap<>();
    private FaultyBlockStore faults;
    private double[] rates;
    /** What was done, for the failure message. */
    private final List<String> history = new ArrayList<>();

    private Engine open(Path pool, long seed, boolean faulty) {
        EngineOptions o = EngineOptions.defaults().withCommitIntervalMillis(200);
        if (faulty) {
            o = o.withBlockStoreDecorator(s -> faults = new FaultyBlockStore(s, seed));
        }
        return pools.track(Engine.open(pool, o));
    }

    private void quiet() {
        faults.quiet();
    }

    private void loud() {
        faults.rates(rates[0], rates[1], rates[2]);
    }

    @Test
    void engineFaultsAreEioNeverWrongDataAndMetadataStaysConsistent() throws Exception {
        long seed = Long.getLong("clonefs.fault.seed", System.nanoTime());
        int steps = Integer.getInteger("clonefs.fault.steps", 3000);
        System.out.println("IoFaultReliabilityIT engine: seed " + seed + " (-Dclonefs.fault.seed=" + seed + ")");
        Random r = new Random(seed);
        Path pool = pools.pool();
        Engine.init(pool, BS);
        engine = open(pool, seed, true);
        rates = new double[] {0.05, 0.05, 0.1};
        engine.createVolume("v");
        model.put("v", new TreeMap<>());
        int eio = 0;
        int okReads = 0;
        int snaps = 0;
        try {
            loud();
            for (int step = 0; step < steps; step++) {
                List<String> vols = model.keySet().stream().filter(n -> !n.contains("@")).toList();
                String vol = vols.get(r.nextInt(vols.size()));
                VolumeFs fs = engine.volume(vol);
                Map<String, byte[]> files = model.get(vol);
                String file = "f" + r.nextInt(4);
                int dice = r.nextInt(100);
                if (!files.containsKey(file)) {
                    fs.create(fs.resolve(""), file, 0644, 0, 0);
                    files.put(file, new byte[0]);
                }
                InodeId ino = fs.resolve(file);
                try {
                    if (dice < 35) {
                        long off = randomOffset(r);
                        byte[] data = randomBytes(r, randomLength(r));
                        history.add(step + " write " + vol + "/" + file + " " + off + "+" + data.length + " size " + files.get(file).length);
                        try {
                            assertEquals(data.length, fs.write(ino, off, ByteBuffer.wrap(data)));
                            files.put(file, applyWrite(files.get(file), off, data));
                        } catch (ClonefsException e) {
                            eio += expectEio(e);
                            history.add(step + "   failed: " + e.getMessage());
                            quiet();
                            files.put(file, adoptAfterFailedWrite(fs, ino, files.get(file), off, data, vol + "/" + file,
                                    false));
                            loud();
                        }
                    } else if (dice < 43) {
                        int size = r.nextInt(MAX_SIZE);
                        history.add(step + " truncate " + vol + "/" + file + " " + size + " size " + files.get(file).length);
                        try {
                            fs.truncate(ino, size);
                            files.put(file, Arrays.copyOf(files.get(file), size));
                        } catch (ClonefsException e) {
                            eio += expectEio(e);
                            history.add(step + "   failed: " + e.getMessage());
                            quiet();
                            files.put(file, adoptAfterFailedTruncate(fs, ino, files.get(file), size, vol + "/" + file));
                            loud();
                        }
                    } else if (dice < 75) {
                        byte[] want = files.get(file);
                        int off = r.nextInt(Math.max(1, want.length + BS));
                        int len = 1 + r.nextInt(64 * 1024);
                        try {
                            byte[] got = read(fs, ino, off, len);
                            assertArrayEquals(slice(want, off, len), got, "wrong data read from " + vol + "/" + file
                                    + " at " + off + "+" + len + " (seed " + seed + ", step " + step + ")");
                            okReads++;
                        } catch (ClonefsException e) {
                            eio += expectEio(e);
                        }
                    } else if (dice < 85) {
                        try {
                            fs.fsync(ino, r.nextBoolean());
                        } catch (ClonefsException e) {
                            eio += expectEio(e);
                        }
                    } else if (dice < 89) {
                        String snap = vol + "@s" + step;
                        try {
                            engine.snapshot(vol, "s" + step);
                        } catch (ClonefsException e) {
                            eio += expectEio(e);
                        }
                        history.add(step + " snapshot " + snap);
                        if (engine.snapshots().stream().anyMatch(s -> s.name().equals(snap))) {
                            model.put(snap, copy(files));
                            snaps++;
                        }
                    } else if (dice < 92) {
                        List<String> ss = model.keySet().stream().filter(n -> n.contains("@")).toList();
                        if (!ss.isEmpty() && vols.size() < 4) {
                            String from = ss.get(r.nextInt(ss.size()));
                            String clone = "c" + step;
                            try {
                                engine.cloneVolume(from, clone);
                            } catch (ClonefsException e) {
                                eio += expectEio(e);
                            }
                            history.add(step + " clone " + from + " " + clone);
                            if (engine.volumes().stream().anyMatch(v -> v.name().equals(clone))) {
                                model.put(clone, copy(model.get(from)));
                            }
                        }
                    } else if (dice < 95) {
                        List<String> ss = model.keySet().stream().filter(n -> n.contains("@")).toList();
                        if (!ss.isEmpty()) {
                            String snap = ss.get(r.nextInt(ss.size()));
                            String f = "f" + r.nextInt(4);
                            byte[] want = model.get(snap).get(f);
                            if (want != null) {
                                VolumeFs sfs = engine.snapshotFs(snap);
                                try {
                                    assertArrayEquals(want, read(sfs, sfs.resolve(f), 0, want.length + BS),
                                            "snapshot " + snap + "/" + f + " changed (seed " + seed + ")");
                                    okReads++;
                                } catch (ClonefsException e) {
                                    eio += expectEio(e);
                                }
                            }
                        }
                    } else if (dice < 97) {
                        fs.unlink(fs.resolve(""), file);
                        files.remove(file);
                    } else {
                        quiet();
                        verifyAll("step " + step + ", seed " + seed);
                        assertClean(engine.fsck(), "fsck at step " + step + ", seed " + seed);
                        loud();
                    }
                } catch (AssertionError e) {
                    history.subList(0, Math.max(0, history.size() - 60)).clear();
                    throw new AssertionError(e.getMessage() + " [" + faults + "]\n" + String.join("\n", history), e);
                }
            }
            quiet();
            System.out.printf("engine under faults: %d steps, %s, %d EIO seen by callers, %d exact reads, %d snapshots%n",
                    steps, faults, eio, okReads, snaps);
            assertTrue(faults.faults() > 20, "too few faults injected: " + faults);
            assertTrue(eio > 10, "too few errors reached the caller");
            verifyAll("end, seed " + seed);
            assertClean(engine.fsck(), "fsck at the end, seed " + seed);
        } finally {
            quiet();
        }
        engine.close();
        engine = null;
        // what is durable is exactly what the callers were told
        engine = open(pool, seed, false);
        verifyAll("after reopen, seed " + seed);
        assertClean(engine.fsck(), "fsck after reopen, seed " + seed);
    }

    @Test
    void kernelMountReportsEioAndNeverWrongData() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "needs /dev/fuse");
        long seed = Long.getLong("clonefs.fault.seed", System.nanoTime());
        int steps = Integer.getInteger("clonefs.fault.steps", 3000) / 3;
        System.out.println("IoFaultReliabilityIT mount: seed " + seed + " (-Dclonefs.fault.seed=" + seed + ")");
        Random r = new Random(seed);
        Path pool = pools.pool();
        Engine.init(pool, BS);
        engine = open(pool, seed, true);
        rates = new double[] {0.08, 0.08, 0.1};
        quiet();
        engine.createVolume("v");
        mnt = Files.createDirectory(pools.mnt());
        // write-through (no writeback cache): every failed write reaches its caller; the writeback
        // cache, where failures surface at fsync and close, has its own test below
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(false, false, false)));
        VolumeFs fs = engine.volume("v");
        Map<String, byte[]> files = new TreeMap<>();
        model.put("v", files);

        // deterministic first: every read fails -> dd says EIO; every write fails -> dd says EIO
        byte[] seedData = randomBytes(r, 64 * 1024);
        InodeId direct = fs.create(fs.resolve(""), "direct", 0644, 0, 0).ino();
        fs.write(direct, 0, ByteBuffer.wrap(seedData));
        faults.rates(1, 0, 0);
        Proc.Result dd = Proc.run(List.of("dd", "if=" + mnt.resolve("v/direct"), "of=/dev/null", "bs=8k"),
                Map.of(), Duration.ofSeconds(60));
        assertNotEquals(0, dd.exit(), dd.describe());
        assertTrue(dd.err().contains("Input/output error"), dd.describe());
        faults.rates(0, 1, 0);
        dd = Proc.run(List.of("dd", "if=/dev/zero", "of=" + mnt.resolve("v/ddout"), "bs=8k", "count=4", "conv=fsync"),
                Map.of(), Duration.ofSeconds(60));
        assertNotEquals(0, dd.exit(), dd.describe());
        assertTrue(dd.err().contains("Input/output error"), dd.describe());
        faults.rates(0, 0, 1);
        // one block: the fsync's log record carries its bytes, so no block sync is asked for
        dd = Proc.run(List.of("dd", "if=/dev/zero", "of=" + mnt.resolve("v/ddlog"), "bs=8k", "count=1", "conv=fsync"),
                Map.of(), Duration.ofSeconds(60));
        assertEquals(0, dd.exit(), "a small fsync needs no block sync: " + dd.describe());
        // more blocks than a record carries: they are written back, and that fails (and so does
        // every fsync after it while the failed batch waits to go again)
        dd = Proc.run(List.of("dd", "if=/dev/zero", "of=" + mnt.resolve("v/ddsync"), "bs=8k", "count=32", "conv=fsync"),
                Map.of(), Duration.ofSeconds(60));
        assertNotEquals(0, dd.exit(), "fsync failure must be reported: " + dd.describe());
        assertTrue(dd.err().contains("Input/output error"), dd.describe());
        quiet();
        assertArrayEquals(seedData, Files.readAllBytes(mnt.resolve("v/direct")));
        for (String f : List.of("ddout", "ddsync", "ddlog")) {
            files.put(f, read(fs, fs.resolve(f), 0, MAX_SIZE));
        }
        files.put("direct", seedData);
        // a refused overwrite of pages the kernel has cached (just read): the mount must show what
        // the engine has afterwards, not the bytes it refused
        faults.rates(0, 1, 0);
        try (FileChannel ch = FileChannel.open(mnt.resolve("v/direct"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(randomBytes(r, 3 * BS)), BS);
            fail("a write must fail while every block write fails");
        } catch (IOException e) {
            expectEio(e);
        }
        quiet();
        files.put("direct", read(fs, direct, 0, MAX_SIZE));
        assertArrayEquals(files.get("direct"), Files.readAllBytes(mnt.resolve("v/direct")),
                "after a refused overwrite of cached pages the mount shows the engine's bytes");

        int eio = 0;
        int okReads = 0;
        int refusals = 0;
        loud();
        try {
            for (int step = 0; step < steps; step++) {
                String file = "m" + r.nextInt(3);
                Path p = mnt.resolve("v").resolve(file);
                if (!files.containsKey(file)) {
                    Files.createFile(p);
                    files.put(file, new byte[0]);
                }
                int dice = r.nextInt(100);
                if (dice < 40) {
                    long off = randomOffset(r);
                    byte[] data = randomBytes(r, randomLength(r));
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ByteBuffer b = ByteBuffer.wrap(data);
                        while (b.hasRemaining()) {
                            ch.write(b, off + b.position());
                        }
                        files.put(file, applyWrite(files.get(file), off, data));
                    } catch (IOException e) {
                        eio += expectEio(e);
                        // the truth is in the engine; the kernel may cache either version
                        quiet();
                        // the engine refused it: the mount must show what the engine has from now on
                        // (the adapter drops the kernel's cached pages and size of the file)
                        files.put(file, adoptAfterFailedWrite(fs, fs.resolve(file), files.get(file), off, data, file, true));
                        refusals++;
                        dropCache(p);
                        loud();
                    }
                } else if (dice < 48) {
                    int size = r.nextInt(MAX_SIZE);
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        if (size < ch.size()) {
                            ch.truncate(size);
                            files.put(file, Arrays.copyOf(files.get(file), size));
                        }
                    } catch (IOException e) {
                        eio += expectEio(e);
                        quiet();
                        files.put(file, adoptAfterFailedTruncate(fs, fs.resolve(file), files.get(file), size, file));
                        refusals++;
                        dropCache(p);
                        loud();
                    }
                } else if (dice < 90) {
                    byte[] want = files.get(file);
                    int off = r.nextInt(Math.max(1, want.length + BS));
                    int len = 1 + r.nextInt(64 * 1024);
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                        ByteBuffer b = ByteBuffer.allocate(len);
                        while (b.hasRemaining() && ch.read(b, off + b.position()) > 0) {
                            // until EOF or full
                        }
                        byte[] got = Arrays.copyOf(b.array(), b.position());
                        if (!Arrays.equals(slice(want, off, len), got)) {
                            quiet();
                            byte[] engineView = read(fs, fs.resolve(file), off, len);
                            String sizes = "size: model " + want.length + ", kernel " + Files.size(p) + ", engine "
                                    + fs.getattr(fs.resolve(file)).size() + "; read " + got.length + " bytes";
                            int at = Arrays.mismatch(slice(want, off, len), got);
                            Proc.run(List.of("dd", "if=" + p, "iflag=nocache", "count=0", "status=none"), Map.of(),
                                    Duration.ofSeconds(30));
                            byte[] again = Arrays.copyOf(Files.readAllBytes(p), want.length);
                            String afterDrop = Arrays.equals(want, again) ? "right after dropping the kernel's cache of the file"
                                    : "still wrong after dropping the kernel's cache";
                            fail("wrong data read through the mount from " + file + " at " + off + "+" + len
                                    + ": first difference at file offset " + (off + at) + "; the engine itself "
                                    + (Arrays.equals(engineView, got) ? "returns the same wrong bytes"
                                    : Arrays.equals(engineView, slice(want, off, len)) ? "returns the right bytes (kernel cache?)"
                                    : "differs from both") + "; " + afterDrop + "; " + sizes + " (seed " + seed + ", step " + step + ", " + faults + ")");
                        }
                        okReads++;
                    } catch (IOException e) {
                        eio += expectEio(e);
                    }
                } else {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ch.force(r.nextBoolean());
                    } catch (IOException e) {
                        eio += expectEio(e);
                    }
                }
            }
        } finally {
            quiet();
        }
        System.out.printf("mount under faults: %d steps, %s, %d EIO seen by callers, %d refused writes and truncates,"
                + " %d exact reads%n", steps, faults, eio, refusals, okReads);
        assertTrue(eio > 10, "too few errors reached the caller: " + faults);
        assertTrue(refusals > 5, "too few refused writes and truncates to check the reads after them: " + faults);
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(mnt.resolve("v").resolve(e.getKey())), e.getKey());
        }
        assertClean(engine.fsck(), "fsck after the mount run, seed " + seed);
        mount.close();
        mount = null;
        engine.close();
        engine = open(pool, seed, false);
        verifyAll("after reopen, seed " + seed);
        assertClean(engine.fsck(), "fsck after reopen, seed " + seed);
    }

    /**
     * With the writeback cache a write(2) succeeds into the kernel's page cache and a failed
     * write-back must surface from fsync and close, never silently; and once the kernel's (clean,
     * unwritten) pages are dropped, the mount shows exactly what the engine has.
     */
    @Test
    void writebackMountReportsWriteBackFaultsFromFsyncAndClose() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "needs /dev/fuse");
        long seed = Long.getLong("clonefs.fault.seed", System.nanoTime());
        System.out.println("IoFaultReliabilityIT writeback: seed " + seed + " (-Dclonefs.fault.seed=" + seed + ")");
        Random r = new Random(seed);
        Path pool = pools.pool();
        Engine.init(pool, BS);
        engine = open(pool, seed, true);
        rates = new double[] {0, 0, 0};
        quiet();
        engine.createVolume("v");
        mnt = Files.createDirectory(pools.mnt());
        mount = pools.track(Mount.mount(engine, mnt, new MountOptions(false, false, true)));
        VolumeFs fs = engine.volume("v");

        // every write-back fails: dd's writes succeed into the cache, its fsync reports EIO
        faults.rates(0, 1, 0);
        Proc.Result dd = Proc.run(List.of("dd", "if=/dev/zero", "of=" + mnt.resolve("v/ddout"), "bs=64k", "count=16",
                "conv=fsync"), Map.of(), Duration.ofSeconds(60));
        assertNotEquals(0, dd.exit(), dd.describe());
        assertTrue(dd.err().contains("Input/output error"), dd.describe());
        // the engine's fsync fails: reported too
        faults.rates(0, 0, 1);
        // (more blocks than an intent-log record carries: they are written back, and that fails)
        dd = Proc.run(List.of("dd", "if=/dev/zero", "of=" + mnt.resolve("v/ddsync"), "bs=8k", "count=32", "conv=fsync"),
                Map.of(), Duration.ofSeconds(60));
        assertNotEquals(0, dd.exit(), "fsync failure must be reported: " + dd.describe());
        assertTrue(dd.err().contains("Input/output error"), dd.describe());
        quiet();

        // overwrites of a file that is in the engine, half of their write-backs failing: every
        // round whose bytes did not all reach the engine is reported by fsync or close
        byte[] base0 = randomBytes(r, 1 << 20);
        Path p = mnt.resolve("v/data");
        Files.write(p, base0);
        int failedRounds = 0;
        int okRounds = 0;
        for (int round = 0; round < 30; round++) {
            long off = (long) r.nextInt((1 << 20) / BS - 8) * BS;
            byte[] data = randomBytes(r, BS * (1 + r.nextInt(8)));
            faults.rates(0, 0.5, 0);
            boolean reported = false;
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    ch.write(b, off + b.position());
                }
                ch.force(false);
            } catch (IOException e) {
                expectEio(e);
                reported = true;
            }
            quiet();
            byte[] inEngine = read(fs, fs.resolve("data"), off, data.length);
            if (reported) {
                failedRounds++;
                // the refused write-backs dropped the kernel's pages of the file: the mount shows
                // what the engine has, not the refused bytes
                byte[] viaMount = new byte[data.length];
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                    ByteBuffer b = ByteBuffer.wrap(viaMount);
                    while (b.hasRemaining() && ch.read(b, off + b.position()) > 0) {
                        // until full
                    }
                }
                assertArrayEquals(inEngine, viaMount, "round " + round + ": the mount shows bytes the engine refused");
            } else {
                okRounds++;
                assertArrayEquals(data, inEngine, "round " + round + ": fsync succeeded but the engine lacks the bytes");
            }
        }
        System.out.printf("writeback under faults: %d rounds reported EIO, %d succeeded (%s)%n", failedRounds, okRounds,
                faults);
        assertTrue(failedRounds > 0, "no write-back failure reached the caller: " + faults);
        // and with every page dropped, the same
        Proc.run(List.of("sh", "-c", "sync; echo 1 > /proc/sys/vm/drop_caches"), Map.of(), Duration.ofSeconds(60))
                .check();
        byte[] engineNow = read(fs, fs.resolve("data"), 0, 1 << 20);
        assertArrayEquals(engineNow, Files.readAllBytes(p), "mount and engine differ after dropping the page cache");
        assertClean(engine.fsck(), "fsck after the writeback run, seed " + seed);
    }

    /**
     * Drops the kernel's cached pages of one file ({@code posix_fadvise(DONTNEED)} via dd) when
     * {@code -Dclonefs.fault.dropCache=true}: to tell a wrong page cache from wrong engine data
     * while investigating (RELIABILITY.md §3). Off by default: reads must be right without it.
     */
    private static void dropCache(Path p) {
        if (!Boolean.getBoolean("clonefs.fault.dropCache")) {
            return;
        }
        Proc.run(List.of("dd", "if=" + p, "iflag=nocache", "count=0", "status=none"), Map.of(), Duration.ofSeconds(30))
                .check();
    }

    // --- model helpers

    private static long randomOffset(Random r) {
        return r.nextBoolean() ? (long) r.nextInt(MAX_SIZE / BS) * BS : r.nextInt(MAX_SIZE);
    }

    private static int randomLength(Random r) {
        return switch (r.nextInt(3)) {
            case 0 -> BS;
            case 1 -> 1 + r.nextInt(100);
            default -> 1 + r.nextInt(40 * 1024);
        };
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static byte[] applyWrite(byte[] old, long off, byte[] data) {
        byte[] n = Arrays.copyOf(old, (int) Math.max(old.length, off + data.length));
        System.arraycopy(data, 0, n, (int) off, data.length);
        return n;
    }

    private static byte[] slice(byte[] b, int off, int len) {
        if (off >= b.length) {
            return new byte[0];
        }
        return Arrays.copyOfRange(b, off, Math.min(b.length, off + len));
    }

    private static Map<String, byte[]> copy(Map<String, byte[]> files) {
        Map<String, byte[]> c = new TreeMap<>();
        files.forEach((k, v) -> c.put(k, v.clone()));
        return c;
    }

    /** An engine failure: must be EIO. Returns 1. */
    private static int expectEio(ClonefsException e) {
        if (e.errno() != Errno.EIO) {
            throw new AssertionError("expected EIO, got " + e.errno() + ": " + e, e);
        }
        return 1;
    }

    /** A failure through the kernel: must be EIO ("Input/output error"). Returns 1. */
    private static int expectEio(IOException e) {
        if (e.getMessage() == null || !e.getMessage().contains("Input/output error")) {
            throw new AssertionError("expected EIO through the mount, got " + e, e);
        }
        return 1;
    }

    private static byte[] read(VolumeFs fs, InodeId ino, long off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            int n = fs.read(ino, off + b.position(), b);
            if (n <= 0) {
                break;
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    /**
     * After a failed write (faults off): the size is the old or the new one, every byte the write
     * covered is old or new, everything else is unchanged. Returns the file as it now is. Through
     * the kernel one write(2) becomes several FUSE writes, so {@code partial}: a size in between.
     */
    private static byte[] adoptAfterFailedWrite(VolumeFs fs, InodeId ino, byte[] old, long off, byte[] data, String what,
                                                boolean partial) {
        byte[] now = read(fs, ino, 0, MAX_SIZE + 2 * 64 * 1024);
        long newSize = Math.max(old.length, off + data.length);
        boolean between = partial && now.length > old.length && now.length < newSize;
        if (now.length != old.length && now.length != newSize && !between) {
            fail("after a failed write to " + what + " the size is " + now.length + ", neither " + old.length
                    + " nor " + newSize);
        }
        for (int i = 0; i < now.length; i++) {
            byte o = i < old.length ? old[i] : 0;
            byte n = i >= off && i < off + data.length ? data[(int) (i - off)] : o;
            if (now[i] != o && now[i] != n) {
                fail("after a failed write to " + what + " (" + off + "+" + data.length + ") byte " + i
                        + " is neither old nor new");
            }
        }
        return now;
    }

    private static byte[] adoptAfterFailedTruncate(VolumeFs fs, InodeId ino, byte[] old, int size, String what) {
        byte[] now = read(fs, ino, 0, MAX_SIZE + 2 * 64 * 1024);
        if (now.length != old.length && now.length != size) {
            fail("after a failed truncate of " + what + " to " + size + " the size is " + now.length);
        }
        int common = Math.min(now.length, Math.min(old.length, size));
        assertArrayEquals(Arrays.copyOf(old, common), Arrays.copyOf(now, common),
                "a failed truncate of " + what + " changed bytes it kept");
        return now;
    }

    private void verifyAll(String when) {
        Map<String, String> errors = new HashMap<>();
        for (Map.Entry<String, Map<String, byte[]>> ds : model.entrySet()) {
            VolumeFs fs = ds.getKey().contains("@") ? engine.snapshotFs(ds.getKey()) : engine.volume(ds.getKey());
            List<String> names = new ArrayList<>();
            fs.readdir(fs.resolve("")).forEach(d -> names.add(d.name()));
            assertEquals(new ArrayList<>(ds.getValue().keySet()), names, "files of " + ds.getKey() + " at " + when);
            for (Map.Entry<String, byte[]> f : ds.getValue().entrySet()) {
                InodeId ino = fs.resolve(f.getKey());
                assertEquals(f.getValue().length, fs.getattr(ino).size(), ds.getKey() + "/" + f.getKey() + " size at " + when);
                byte[] got = read(fs, ino, 0, f.getValue().length + BS);
                if (!Arrays.equals(f.getValue(), got)) {
                    errors.put(ds.getKey() + "/" + f.getKey(), "differs at byte " + Arrays.mismatch(f.getValue(), got));
                }
            }
        }
        assertEquals(Map.of(), errors, "contents at " + when);
    }

    private static void assertClean(FsckReport r, String what) {
        assertTrue(r.clean(), what + ": " + r.problems().subList(0, Math.min(20, r.problems().size())));
    }
}
