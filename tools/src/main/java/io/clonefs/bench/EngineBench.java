package io.clonefs.bench;

import io.clonefs.engine.Engine;
import io.clonefs.engine.FsckReport;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.SpaceInfo;
import io.clonefs.engine.VolumeFs;
import io.clonefs.engine.VolumeSpace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static io.clonefs.bench.BenchSupport.GIB;
import static io.clonefs.bench.BenchSupport.IO_SIZE;
import static io.clonefs.bench.BenchSupport.Latencies;
import static io.clonefs.bench.BenchSupport.MIB;
import static io.clonefs.bench.BenchSupport.PIECE;
import static io.clonefs.bench.BenchSupport.bytes;
import static io.clonefs.bench.BenchSupport.ms;
import static io.clonefs.bench.BenchSupport.us;

/**
 * {@code make bench-engine}: the engine measurements of the pool-and-engine issue ("How fast"),
 * taken through the public {@link Engine} / {@link VolumeFs} API on a pool in a temporary
 * directory. Prints a Markdown table and, with {@code -Dbench.report=FILE}, replaces the engine
 * section of that file (BENCHMARKS.md).
 *
 * <p>System properties: {@code bench.scale} (default 1: 100 MiB / 10 GiB volumes; 0.01 for a smoke
 * run), {@code bench.clones} (clones timed per volume, default 11), {@code bench.depth} (clone
 * generations, default 50), {@code bench.dir} (parent directory of the pool, default the temporary
 * directory), {@code bench.keep}, {@code bench.report}, {@code bench.fsckEach} (fsck after every
 * phase). Exits non-zero only if something broke
 * (an exception, data read back wrong, fsck not clean); a missed goal is reported, not fatal.
 */
public final class EngineBench {
    private final double scale;
    private final int clones;
    private final int depth;
    private final Path pool;
    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final ByteBuffer buf = ByteBuffer.allocateDirect(IO_SIZE);
    private final Random random = new Random(7);
    private Engine engine;

    /** One line of the result table. */
    record Row(String measurement, String result, String goal, String verdict) {
    }

    private EngineBench(double scale, int clones, int depth, Path pool) {
        this.scale = scale;
        this.clones = clones;
        this.depth = depth;
        this.pool = pool;
    }

    public static void main(String[] args) throws IOException {
        double scale = Double.parseDouble(System.getProperty("bench.scale", "1"));
        int clones = Integer.getInteger("bench.clones", 11);
        int depth = Integer.getInteger("bench.depth", 50);
        String parent = System.getProperty("bench.dir", "");
        Path pool = parent.isEmpty() ? Files.createTempDirectory("clonefs-bench-")
                : Files.createTempDirectory(Files.createDirectories(Path.of(parent)), "clonefs-bench-");
        EngineBench bench = new EngineBench(scale, clones, depth, pool);
        String machine = BenchSupport.machine(pool);
        long t0 = System.nanoTime();
        boolean ok;
        try {
            ok = bench.run();
        } finally {
            if (Boolean.getBoolean("bench.keep")) {
                System.out.println("pool kept at " + pool);
            } else {
                BenchSupport.deleteTree(pool);
            }
        }
        long minutes = Math.round((System.nanoTime() - t0) / 60e9 * 10);
        String table = bench.table();
        System.out.println();
        System.out.println(table);
        bench.notes.forEach(n -> System.out.println("- " + n));
        String report = System.getProperty("bench.report", "");
        if (!report.isEmpty()) {
            BenchSupport.replaceSection(Path.of(report), BEGIN, END, bench.section(machine, table, minutes / 10.0));
            System.out.println("\nwrote the engine section of " + report);
        }
        System.exit(ok ? 0 : 1);
    }

    private boolean run() {
        Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
        boolean ok = true;
        try (Engine e = Engine.open(pool)) {
            engine = e;
            long small = (long) (100 * MIB * scale);
            long large = (long) (10 * GIB * scale);
            section("load: small = " + bytes(small) + " in 10 files, large = " + bytes(large) + " in 1000 files");
            load("small", small, 10, 1);
            load("large", large, 1000, 2);

            ok &= checkpointFsck("load");
            cloneTimes(small, large);
            ok &= checkpointFsck("clone times");
            ok &= spaceAndDestroy(large);
            ok &= checkpointFsck("space and destroy");
            ok &= readLatency();
            ok &= checkpointFsck("read latency");
            writesAfterSnapshot();
            ok &= checkpointFsck("writes after a snapshot");
            ok &= sequential();

            section("fsck");
            long f0 = System.nanoTime();
            FsckReport fsck = engine.fsck();
            System.out.printf("%d roots, %d nodes, %d blocks in %s: %s%n", fsck.roots(), fsck.nodes(), fsck.blocks(),
                    ms(System.nanoTime() - f0), fsck.clean() ? "clean" : "PROBLEMS");
            fsck.problems().stream().limit(20).forEach(p -> System.out.println("  ! " + p));
            rows.add(new Row("fsck after the whole run (" + fsck.roots() + " roots, " + fsck.nodes() + " nodes, "
                    + fsck.blocks() + " blocks)", fsck.clean() ? "clean" : fsck.problems().size() + " problems",
                    "clean", fsck.clean() ? "met" : "MISSED"));
            ok &= fsck.clean();
        }
        return ok;
    }

    /** With {@code -Dbench.fsckEach=true}: fsck after each phase, to find the phase that breaks a count. */
    private boolean checkpointFsck(String phase) {
        if (!Boolean.getBoolean("bench.fsckEach")) {
            return true;
        }
        engine.sync();
        engine.awaitReclaim(Duration.ofMinutes(5));
        FsckReport r = engine.fsck();
        System.out.printf("fsck after %s: %s%n", phase, r.clean() ? "clean" : r.problems().size() + " problems, first: "
                + r.problems().get(0));
        return r.clean();
    }

    /** Writes {@code files} files of {@code total / files} bytes into a new volume; reports the rate. */
    private void load(String volume, long total, int files, long seedBase) {
        long fileSize = BenchSupport.pieces(total / files);
        engine.createVolume(volume);
        VolumeFs fs = engine.volume(volume);
        long t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            BenchSupport.writeFile(fs, InodeId.ROOT, "f" + i, seedBase * 1_000_000 + i, fileSize, buf);
        }
        engine.sync();
        long t = System.nanoTime() - t0;
        System.out.printf("%-6s %s in %d files written in %s (%s, sync included)%n", volume, bytes(fileSize * files),
                files, ms(t), BenchSupport.mbps(fileSize * files, t));
    }

    private void cloneTimes(long small, long large) {
        section("clone time: " + clones + " snapshot + clone pairs of each volume, alternating");
        long[][] snap = new long[2][clones];
        long[][] clone = new long[2][clones];
        String[] vols = {"small", "large"};
        for (int i = 0; i < clones; i++) {
            for (int v = 0; v < 2; v++) {
                long t0 = System.nanoTime();
                engine.snapshot(vols[v], "c" + i);
                long t1 = System.nanoTime();
                engine.cloneVolume(vols[v] + "@c" + i, vols[v] + "-c" + i);
                long t2 = System.nanoTime();
                snap[v][i] = t1 - t0;
                clone[v][i] = t2 - t1;
            }
        }
        long[] both = new long[2];
        for (int v = 0; v < 2; v++) {
            long[] sum = new long[clones];
            for (int i = 0; i < clones; i++) {
                sum[i] = snap[v][i] + clone[v][i];
            }
            both[v] = BenchSupport.median(sum);
            System.out.printf("%-6s snapshot median %s, clone median %s, snapshot+clone median %s (min %s, max %s)%n",
                    vols[v], ms(BenchSupport.median(snap[v])), ms(BenchSupport.median(clone[v])), ms(both[v]),
                    ms(Latencies.of(sum).pct(0)), ms(Latencies.of(sum).max()));
        }
        long cs = BenchSupport.median(clone[0]);
        long cl = BenchSupport.median(clone[1]);
        double ratio = (double) cl / cs;
        double ratioBoth = (double) both[1] / both[0];
        System.out.printf(Locale.ROOT, "ratio large/small: clone %.2f, snapshot+clone %.2f%n", ratio, ratioBoth);
        rows.add(new Row("clone, volume of " + bytes(small) + " in 10 files (median of " + clones + ")", ms(cs),
                "< 200 ms", verdict(cs < 200_000_000L)));
        rows.add(new Row("clone, volume of " + bytes(large) + " in 1000 files (median of " + clones + ")", ms(cl),
                "< 200 ms", verdict(cl < 200_000_000L)));
        rows.add(new Row("clone time ratio large / small", String.format(Locale.ROOT, "%.2f", ratio), "≤ 1.2",
                verdict(ratio <= 1.2)));
        rows.add(new Row("snapshot + clone (what `clone VOLUME` does), small / large (medians)",
                ms(both[0]) + " / " + ms(both[1]) + String.format(Locale.ROOT, " (ratio %.2f)", ratioBoth),
                "< 200 ms, ≤ 1.2", verdict(both[0] < 200_000_000L && both[1] < 200_000_000L && ratioBoth <= 1.2)));
        for (int i = 0; i < clones; i++) {
            for (String v : vols) {
                engine.destroy(v + "-c" + i, false);
                engine.destroy(v + "@c" + i, false);
            }
        }
        engine.awaitReclaim(Duration.ofMinutes(5));
    }

    /** Space added by a fresh clone of the large volume; then destroy of that clone once it holds its own data. */
    private boolean spaceAndDestroy(long large) {
        section("space of a fresh clone of the large volume; destroy of a large clone");
        engine.sync();
        engine.awaitReclaim(Duration.ofMinutes(5));
        SpaceInfo s0 = engine.space();
        long du0 = BenchSupport.diskUsage(pool);
        engine.snapshot("large", "space");
        engine.cloneVolume("large@space", "large-clone");
        engine.sync();
        SpaceInfo s1 = engine.space();
        long du1 = BenchSupport.diskUsage(pool);
        long addedUsed = s1.usedBytes() - s0.usedBytes();
        long addedDisk = du1 - du0;
        System.out.printf("space().usedBytes %d -> %d (+%d); pool directory on disk %d -> %d (+%d)%n",
                s0.usedBytes(), s1.usedBytes(), addedUsed, du0, du1, addedDisk);
        rows.add(new Row("pool bytes added by snapshot + fresh clone of the " + bytes(large) + " volume: "
                + "space().usedBytes / on disk (`du`)", addedUsed + " B / " + addedDisk + " B", "< 1 MiB",
                verdict(addedUsed < MIB && addedDisk < MIB)));

        // Give the clone data of its own: rewrite every file (fraction configurable), so that destroying
        // it has real work for the reclaimer.
        double fraction = Double.parseDouble(System.getProperty("bench.destroyRewrite", "1"));
        VolumeFs fs = engine.volume("large-clone");
        long t0 = System.nanoTime();
        long rewritten = 0;
        for (int i = 0; i < 1000; i++) {
            InodeId ino = fs.lookup(InodeId.ROOT, "f" + i);
            long size = fs.getattr(ino).size();
            long n = BenchSupport.pieces((long) (size * fraction));
            BenchSupport.writeRange(fs, ino, 9_000_000L + i, 0, Math.min(n, size), buf);
            rewritten += Math.min(n, size);
        }
        engine.sync();
        System.out.printf("rewrote %s of large-clone in %s (%s, sync included)%n", bytes(rewritten),
                ms(System.nanoTime() - t0), BenchSupport.mbps(rewritten, System.nanoTime() - t0));
        boolean ok = verify(fs, "f0", 9_000_000L) & verify(engine.volume("large"), "f0", 2_000_000L);

        VolumeSpace vs = engine.space("large-clone");
        SpaceInfo before = engine.space();
        long d0 = System.nanoTime();
        engine.destroy("large-clone", false);
        long d1 = System.nanoTime();
        boolean drained = engine.awaitReclaim(Duration.ofMinutes(5));
        long d2 = System.nanoTime();
        engine.sync();
        SpaceInfo after = engine.space();
        long freed = before.usedBytes() - after.usedBytes();
        System.out.printf("destroy of large-clone (referenced %s, unique %s) returned in %s; reclaim %s after %s; "
                        + "pool used %s -> %s (freed %s)%n", bytes(vs.referencedBytes()), bytes(vs.uniqueBytes()),
                ms(d1 - d0), drained ? "done" : "NOT done", ms(d2 - d1), bytes(before.usedBytes()),
                bytes(after.usedBytes()), bytes(freed));
        rows.add(new Row("destroy of a clone referencing " + bytes(vs.referencedBytes()) + " ("
                + bytes(vs.uniqueBytes()) + " unique)", ms(d1 - d0), "< 200 ms", verdict(d1 - d0 < 200_000_000L)));
        rows.add(new Row("time until its space is free (awaitReclaim); bytes freed",
                drained ? ms(d2 - d1) + "; " + bytes(freed) : "not within 5 min", "< 1 min",
                verdict(drained && d2 - d1 < 60_000_000_000L)));
        engine.destroy("large@space", false);
        engine.awaitReclaim(Duration.ofMinutes(5));
        return ok && drained;
    }

    /** Random 8 KiB reads: a fresh volume vs a clone {@code depth} generations deep, in alternating rounds. */
    private boolean readLatency() {
        long fileSize = BenchSupport.pieces(Math.max(16 * MIB, (long) (512 * MIB * scale)));
        int reads = Math.max(2_000, (int) Math.min(40_000, 40_000 * Math.min(1, scale * 10)));
        section("random 8 KiB reads: fresh volume vs a clone " + depth + " generations deep (file of "
                + bytes(fileSize) + ", " + reads + " reads each)");
        engine.createVolume("fresh");
        VolumeFs fresh = engine.volume("fresh");
        BenchSupport.writeFile(fresh, InodeId.ROOT, "data", 42, fileSize, buf);
        engine.sync();
        long blocks = fileSize / PIECE;
        ByteBuffer piece = ByteBuffer.allocateDirect(PIECE);
        String parent = "fresh";
        long t0 = System.nanoTime();
        for (int g = 1; g <= depth; g++) {
            engine.snapshot(parent, "g");
            String child = "gen" + g;
            engine.cloneVolume(parent + "@g", child);
            VolumeFs fs = engine.volume(child);
            InodeId ino = fs.resolve("data");
            for (int w = 0; w < 4; w++) {
                long off = (long) random.nextInt((int) blocks) * PIECE;
                piece.clear();
                BenchSupport.fill(piece, 42, off, PIECE);
                piece.flip();
                fs.write(ino, off, piece);
            }
            parent = child;
        }
        engine.sync();
        System.out.printf("built %d generations (snapshot + clone + 4 writes of 8 KiB each) in %s%n", depth,
                ms(System.nanoTime() - t0));
        VolumeFs deep = engine.volume(parent);
        InodeId freshIno = fresh.resolve("data");
        InodeId deepIno = deep.resolve("data");
        boolean ok = verify(deep, "data", 42) & verify(fresh, "data", 42);

        // Warm both equally (the file is shared, so the page cache holds the same blocks for both).
        readRandom(fresh, freshIno, blocks, reads / 4, new Random(1));
        readRandom(deep, deepIno, blocks, reads / 4, new Random(1));
        int rounds = 5;
        long[] a = new long[0];
        long[] b = new long[0];
        for (int r = 0; r < rounds; r++) {
            long seed = 100 + r;
            long[] x = readRandom(fresh, freshIno, blocks, reads / rounds, new Random(seed));
            long[] y = readRandom(deep, deepIno, blocks, reads / rounds, new Random(seed));
            a = concat(a, x);
            b = concat(b, y);
        }
        Latencies lf = Latencies.of(a);
        Latencies ld = Latencies.of(b);
        System.out.printf("fresh: avg %s p50 %s p99 %s;  depth %d: avg %s p50 %s p99 %s%n", us(lf.avg()),
                us(lf.pct(0.5)), us(lf.pct(0.99)), depth, us(ld.avg()), us(ld.pct(0.5)), us(ld.pct(0.99)));
        double ratio = ld.avg() / lf.avg();
        rows.add(new Row("random 8 KiB read, fresh volume: avg / p50 / p99",
                us(lf.avg()) + " / " + us(lf.pct(0.5)) + " / " + us(lf.pct(0.99)), "", ""));
        rows.add(new Row("random 8 KiB read, clone " + depth + " generations deep: avg / p50 / p99",
                us(ld.avg()) + " / " + us(ld.pct(0.5)) + " / " + us(ld.pct(0.99)), "", ""));
        rows.add(new Row("read latency ratio deep / fresh (avg; p50; p99)",
                String.format(Locale.ROOT, "%.2f; %.2f; %.2f", ratio, (double) ld.pct(0.5) / lf.pct(0.5),
                        (double) ld.pct(0.99) / lf.pct(0.99)), "≤ 1.2 (avg)",
                verdict(ratio <= 1.2)));
        notes.add("Reads: the file is shared by both volumes and warmed first, so both read through the page cache; "
                + "the comparison measures the engine's lookup path, which is what clone depth could slow down.");
        for (int g = depth; g >= 1; g--) {
            engine.destroy("gen" + g, false);
            engine.destroy((g == 1 ? "fresh" : "gen" + (g - 1)) + "@g", false);
        }
        engine.destroy("fresh", false);
        engine.awaitReclaim(Duration.ofMinutes(5));
        return ok;
    }

    private static long[] readRandom(VolumeFs fs, InodeId ino, long blocks, int n, Random r) {
        ByteBuffer dst = ByteBuffer.allocateDirect(PIECE);
        long[] lat = new long[n];
        for (int i = 0; i < n; i++) {
            long off = (long) r.nextInt((int) blocks) * PIECE;
            dst.clear();
            long t0 = System.nanoTime();
            int got = fs.read(ino, off, dst);
            lat[i] = System.nanoTime() - t0;
            if (got != PIECE) {
                throw new IllegalStateException("short read: " + got + " at " + off);
            }
        }
        return lat;
    }

    /** p99 of 8 KiB writes just after a snapshot (every write a first write to a shared block), vs before it. */
    private void writesAfterSnapshot() {
        long fileSize = BenchSupport.pieces(Math.max(16 * MIB, (long) (512 * MIB * scale)));
        long blocks = fileSize / PIECE;
        int writes = (int) Math.min(blocks / 2, 20_000);
        section("8 KiB writes before and just after a snapshot (" + writes + " each, file of " + bytes(fileSize) + ")");
        engine.createVolume("wsnap");
        VolumeFs fs = engine.volume("wsnap");
        InodeId ino = BenchSupport.writeFile(fs, InodeId.ROOT, "data", 77, fileSize, buf).ino();
        engine.sync();
        // Distinct blocks in random order: the first half before the snapshot, the second half after it.
        List<Long> order = new ArrayList<>();
        for (long i = 0; i < blocks; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new Random(3));
        long[] before = writeBlocks(fs, ino, order.subList(0, writes));
        engine.sync();
        long t0 = System.nanoTime();
        engine.snapshot("wsnap", "s");
        long t1 = System.nanoTime();
        long[] after = writeBlocks(fs, ino, order.subList(writes, 2 * writes));
        engine.sync();
        Latencies lb = Latencies.of(before);
        Latencies la = Latencies.of(after);
        System.out.printf("snapshot %s; before: avg %s p50 %s p99 %s max %s;  after: avg %s p50 %s p99 %s max %s%n",
                ms(t1 - t0), us(lb.avg()), us(lb.pct(0.5)), us(lb.pct(0.99)), us(lb.max()), us(la.avg()),
                us(la.pct(0.5)), us(la.pct(0.99)), us(la.max()));
        rows.add(new Row("8 KiB write to an unshared block: avg / p99 / max",
                us(lb.avg()) + " / " + us(lb.pct(0.99)) + " / " + us(lb.max()), "", ""));
        rows.add(new Row("8 KiB write just after a snapshot (first write to a shared block): avg / p99 / max",
                us(la.avg()) + " / " + us(la.pct(0.99)) + " / " + us(la.max()), "p99 < 5 ms",
                verdict(la.pct(0.99) < 5_000_000L)));
        engine.destroy("wsnap", true);
        engine.awaitReclaim(Duration.ofMinutes(5));
    }

    private static long[] writeBlocks(VolumeFs fs, InodeId ino, List<Long> blocks) {
        ByteBuffer piece = ByteBuffer.allocateDirect(PIECE);
        long[] lat = new long[blocks.size()];
        for (int i = 0; i < lat.length; i++) {
            long off = blocks.get(i) * PIECE;
            piece.clear();
            BenchSupport.fill(piece, 78, off, PIECE);
            piece.flip();
            long t0 = System.nanoTime();
            fs.write(ino, off, piece);
            lat[i] = System.nanoTime() - t0;
        }
        return lat;
    }

    /** Sequential 128 KiB writes (sync counted) and reads of one file. */
    private boolean sequential() {
        long size = BenchSupport.pieces(Math.max(32 * MIB, (long) (4 * GIB * scale)));
        section("sequential 128 KiB I/O on one file of " + bytes(size));
        engine.createVolume("seq");
        VolumeFs fs = engine.volume("seq");
        long t0 = System.nanoTime();
        InodeId ino = BenchSupport.writeFile(fs, InodeId.ROOT, "data", 5, size, buf).ino();
        engine.sync();
        long tw = System.nanoTime() - t0;
        boolean cold = BenchSupport.dropCaches();
        long tr = readAll(fs, ino, size);
        long tr2 = readAll(fs, ino, size);
        System.out.printf("write %s (sync included); read %s (%s); read again %s (page cache)%n",
                BenchSupport.mbps(size, tw), BenchSupport.mbps(size, tr),
                cold ? "after dropping the page cache" : "page cache NOT dropped", BenchSupport.mbps(size, tr2));
        rows.add(new Row("sequential write, 128 KiB I/Os, " + bytes(size) + ", final sync counted",
                BenchSupport.mbps(size, tw), "", ""));
        rows.add(new Row("sequential read, 128 KiB I/Os" + (cold ? ", page cache dropped first" : ""),
                BenchSupport.mbps(size, tr), "", ""));
        rows.add(new Row("sequential read again (page cache warm)", BenchSupport.mbps(size, tr2), "", ""));
        boolean ok = verify(fs, "data", 5);
        engine.destroy("seq", false);
        return ok;
    }

    private long readAll(VolumeFs fs, InodeId ino, long size) {
        long t0 = System.nanoTime();
        for (long off = 0; off < size; off += IO_SIZE) {
            buf.clear();
            int n = fs.read(ino, off, buf);
            if (n != Math.min(IO_SIZE, size - off)) {
                throw new IllegalStateException("short read: " + n + " at " + off);
            }
        }
        return System.nanoTime() - t0;
    }

    /** Checks the first and the last 8 KiB of a file against what was written with {@code seed}. */
    private static boolean verify(VolumeFs fs, String path, long seed) {
        InodeId ino = fs.resolve(path);
        long size = fs.getattr(ino).size();
        long last = (size - 1) / PIECE * PIECE;
        boolean ok = java.util.Arrays.equals(BenchSupport.read(fs, ino, 0, PIECE), BenchSupport.expected(seed, 0, PIECE))
                && java.util.Arrays.equals(BenchSupport.read(fs, ino, last, (int) (size - last)),
                BenchSupport.expected(seed, last, (int) (size - last)));
        if (!ok) {
            System.out.println("  ! WRONG DATA in " + fs.name() + ":" + path);
        }
        return ok;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static String verdict(boolean met) {
        return met ? "met" : "MISSED";
    }

    private static void section(String s) {
        System.out.println();
        System.out.println("== " + s);
    }

    private String table() {
        StringBuilder s = new StringBuilder();
        s.append("| measurement | result | goal | |\n|---|---|---|---|\n");
        for (Row r : rows) {
            s.append("| ").append(r.measurement()).append(" | ").append(r.result()).append(" | ").append(r.goal())
                    .append(" | ").append(r.verdict()).append(" |\n");
        }
        return s.toString();
    }

    private String section(String machine, String table, double minutes) {
        String when = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n');
        s.append("## Engine (`make bench-engine`)\n\n");
        s.append(String.format(Locale.ROOT, "Run %s at scale %s (`-Dbench.scale`; 1 = the sizes of the goals), "
                + "%d clones timed per volume, clone chain %d generations deep; the run took %.1f min. "
                + "%sEvery figure below was printed by `EngineBench` in that run.%n%n", when, trim(scale), clones, depth,
                minutes, Boolean.getBoolean("bench.fsckEach") ? "fsck was run (clean) after every phase "
                        + "(`-Dbench.fsckEach=true`). " : ""));
        s.append("Machine:\n\n").append(machine).append('\n');
        s.append(table).append('\n');
        s.append("Method:\n\n");
        s.append("- All through the public engine API (`Engine`, `VolumeFs`) in one JVM, pool in a temporary directory "
                + "on the disk above, block size 8 KiB, default `EngineOptions`.\n");
        s.append("- Clone: `cloneVolume` of a fresh snapshot, durable on return; the large and small volumes are "
                + "cloned alternately and the median is taken.\n");
        s.append("- Space: `space().usedBytes` and `du -s -B1` of the pool directory, each after `sync`, before and "
                + "after `snapshot` + `cloneVolume`.\n");
        s.append("- Destroy: the clone is first rewritten (its own blocks), then `destroy` is timed, then "
                + "`awaitReclaim`.\n");
        s.append("- Writes after a snapshot: distinct random 8 KiB-aligned blocks, each write timed alone, not synced "
                + "(group commit runs in the background).\n");
        for (String n : notes) {
            s.append("- ").append(n).append('\n');
        }
        s.append(END).append('\n');
        return s.toString();
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static final String BEGIN = "<!-- bench-engine:begin (written by make bench-engine) -->";
    private static final String END = "<!-- bench-engine:end -->";
}
