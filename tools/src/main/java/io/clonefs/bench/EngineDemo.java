package io.clonefs.bench;

import io.clonefs.engine.Engine;
import io.clonefs.engine.FsckReport;
import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.SpaceInfo;
import io.clonefs.engine.VolumeFs;
import io.clonefs.engine.VolumeSpace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static io.clonefs.bench.BenchSupport.MIB;
import static io.clonefs.bench.BenchSupport.bytes;
import static io.clonefs.bench.BenchSupport.ms;

/**
 * {@code make demo} until the mount lands: the engine at work on a real pool, nothing faked.
 * Creates a pool, writes files into volume {@code prod}, snapshots and clones it, writes into the
 * clone, shows space, proves the two are isolated, destroys the clone, waits for reclaim and runs
 * fsck.
 *
 * <p>Settings (system properties, or the environment variable in brackets):
 * {@code demo.mb} [DEMO_MB] data written into prod, default 1024; {@code demo.files} [DEMO_FILES],
 * default 100; {@code demo.dir} [DEMO_DIR] where to create the pool (must be absent or empty),
 * default a new temporary directory; {@code demo.keep} [DEMO_KEEP] keep the pool afterwards.
 * Exit status 0 only if every check passed and fsck is clean.
 */
public final class EngineDemo {
    private static final long CLONE_WRITE = 10 * MIB;

    private EngineDemo() {
    }

    public static void main(String[] args) throws IOException {
        long totalMb = Long.parseLong(setting("demo.mb", "DEMO_MB", "1024"));
        int files = Integer.parseInt(setting("demo.files", "DEMO_FILES", "100"));
        String dirSetting = setting("demo.dir", "DEMO_DIR", "");
        boolean keep = Boolean.parseBoolean(setting("demo.keep", "DEMO_KEEP", "false"));
        Path pool = dirSetting.isEmpty() ? Files.createTempDirectory("clonefs-demo-") : Path.of(dirSetting);
        int status;
        try {
            status = run(pool, totalMb * MIB, files);
        } finally {
            if (keep) {
                System.out.println("pool kept at " + pool);
            } else {
                BenchSupport.deleteTree(pool);
                System.out.println("removed " + pool);
            }
        }
        System.exit(status);
    }

    static int run(Path pool, long totalBytes, int files) {
        long fileSize = BenchSupport.pieces(totalBytes / files);
        long total = fileSize * files;
        boolean ok = true;

        step("1. create a pool in " + pool + " (block size " + bytes(Engine.DEFAULT_BLOCK_SIZE) + ")");
        Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
        try (Engine engine = Engine.open(pool)) {
            step("2. create volume prod and write " + bytes(total) + " in " + files + " files");
            engine.createVolume("prod");
            VolumeFs prod = engine.volume("prod");
            InodeId data = prod.mkdir(InodeId.ROOT, "data", 0755, 0, 0).ino();
            ByteBuffer buf = ByteBuffer.allocateDirect(BenchSupport.IO_SIZE);
            long t0 = System.nanoTime();
            int lastTenth = 0;
            for (int i = 0; i < files; i++) {
                BenchSupport.writeFile(prod, data, fileName(i), i, fileSize, buf);
                int tenth = (int) ((i + 1) * 10L / files);
                if (tenth > lastTenth) {
                    lastTenth = tenth;
                    long done = (i + 1) * fileSize;
                    System.out.printf(Locale.ROOT, "   %3d%%  %s in %d files  %s%n", tenth * 10, bytes(done), i + 1,
                            BenchSupport.mbps(done, System.nanoTime() - t0));
                }
            }
            long tSync = System.nanoTime();
            engine.sync();
            long t1 = System.nanoTime();
            System.out.printf("   sync: %s; total %s (%s, sync included)%n", ms(t1 - tSync), ms(t1 - t0),
                    BenchSupport.mbps(total, t1 - t0));

            step("3. snapshot prod@demo");
            long s0 = System.nanoTime();
            engine.snapshot("prod", "demo");
            long s1 = System.nanoTime();
            System.out.println("   snapshot took " + ms(s1 - s0));

            step("4. clone prod@demo -> dev");
            long c0 = System.nanoTime();
            engine.cloneVolume("prod@demo", "dev");
            long c1 = System.nanoTime();
            System.out.println("   clone took " + ms(c1 - c0) + "  (snapshot + clone: " + ms((s1 - s0) + (c1 - c0)) + ")");
            showSpace(engine, "   right after the clone:");

            step("5. write " + bytes(CLONE_WRITE) + " into dev (overwrite the start of the first files)");
            VolumeFs dev = engine.volume("dev");
            InodeId devData = dev.resolve("data");
            long w0 = System.nanoTime();
            long left = CLONE_WRITE;
            int touched = 0;
            for (int i = 0; i < files && left > 0; i++) {
                long n = Math.min(left, fileSize);
                BenchSupport.writeRange(dev, dev.lookup(devData, fileName(i)), cloneSeed(i), 0, n, buf);
                left -= n;
                touched++;
            }
            engine.sync();
            System.out.println("   wrote " + bytes(CLONE_WRITE - left) + " into " + touched + " files of dev in "
                    + ms(System.nanoTime() - w0) + " (sync included)");
            showSpace(engine, "   after writing into the clone:");

            step("6. isolation: the same file read from prod, prod@demo and dev");
            ok &= checkIsolation(engine, fileSize);

            step("7. destroy dev");
            SpaceInfo before = engine.space();
            long d0 = System.nanoTime();
            engine.destroy("dev", false);
            long d1 = System.nanoTime();
            System.out.println("   destroy returned in " + ms(d1 - d0));
            boolean drained = engine.awaitReclaim(Duration.ofMinutes(2));
            long d2 = System.nanoTime();
            SpaceInfo after = engine.space();
            System.out.println("   reclaim " + (drained ? "finished" : "NOT finished") + " " + ms(d2 - d1)
                    + " after destroy; pool used " + bytes(before.usedBytes()) + " -> " + bytes(after.usedBytes())
                    + " (freed " + bytes(before.usedBytes() - after.usedBytes()) + ")");
            ok &= drained;
            System.out.println("   volumes left: " + engine.volumes().stream().map(v -> v.name()).toList()
                    + ", snapshots: " + engine.snapshots().stream().map(s -> s.name()).toList());

            step("8. fsck: recount every reference from every root");
            long f0 = System.nanoTime();
            FsckReport report = engine.fsck();
            System.out.printf("   %d roots, %d nodes, %d blocks checked in %s: %s%n", report.roots(), report.nodes(),
                    report.blocks(), ms(System.nanoTime() - f0), report.clean() ? "clean" : "PROBLEMS");
            report.problems().stream().limit(20).forEach(p -> System.out.println("   ! " + p));
            ok &= report.clean();
        }
        step(ok ? "demo finished: all checks passed" : "demo finished: SOME CHECKS FAILED");
        return ok ? 0 : 1;
    }

    private static boolean checkIsolation(Engine engine, long fileSize) {
        int len = (int) Math.min(fileSize, MIB);
        String file = "data/" + fileName(0);
        byte[] fromProd = readFile(engine.volume("prod"), file, len);
        byte[] fromSnap = readFile(engine.snapshotFs("prod@demo"), file, len);
        byte[] fromDev = readFile(engine.volume("dev"), file, len);
        byte[] original = BenchSupport.expected(0, 0, len);
        byte[] rewritten = BenchSupport.expected(cloneSeed(0), 0, len);
        boolean prodOk = Arrays.equals(fromProd, original);
        boolean snapOk = Arrays.equals(fromSnap, original);
        boolean devOk = Arrays.equals(fromDev, rewritten);
        System.out.printf("   %-10s %s: bytes 16..27 = %s  %s%n", "prod", file, BenchSupport.hex(fromProd, 16, 12),
                prodOk ? "= original data" : "WRONG");
        System.out.printf("   %-10s %s: bytes 16..27 = %s  %s%n", "prod@demo", file, BenchSupport.hex(fromSnap, 16, 12),
                snapOk ? "= original data" : "WRONG");
        System.out.printf("   %-10s %s: bytes 16..27 = %s  %s%n", "dev", file, BenchSupport.hex(fromDev, 16, 12),
                devOk ? "= data written into the clone" : "WRONG");
        System.out.println("   (" + bytes(len) + " of each compared byte for byte)");
        return prodOk && snapOk && devOk;
    }

    private static byte[] readFile(VolumeFs fs, String path, int len) {
        return BenchSupport.read(fs, fs.resolve(path), 0, len);
    }

    private static void showSpace(Engine engine, String title) {
        SpaceInfo s = engine.space();
        System.out.println(title);
        System.out.printf("     pool: used %s (blocks in use %d, metadata %s), free %s%n", bytes(s.usedBytes()),
                s.blocksInUse(), bytes(s.metadataBytes()), bytes(s.freeBytes()));
        for (String name : List.of("prod", "prod@demo", "dev")) {
            VolumeSpace v = engine.space(name);
            System.out.printf("     %-10s referenced %10s   unique %10s%n", name, bytes(v.referencedBytes()),
                    bytes(v.uniqueBytes()));
        }
    }

    private static String fileName(int i) {
        return String.format("file-%03d", i);
    }

    private static long cloneSeed(int i) {
        return 1_000_000L + i;
    }

    private static void step(String s) {
        System.out.println();
        System.out.println("== " + s);
    }

    private static String setting(String property, String env, String fallback) {
        String v = System.getProperty(property);
        if (v == null || v.isEmpty()) {
            v = System.getenv(env);
        }
        return v == null || v.isEmpty() ? fallback : v;
    }
}
