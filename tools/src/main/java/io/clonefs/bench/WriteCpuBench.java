package io.clonefs.bench;

import io.clonefs.engine.Engine;
import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The engine's CPU per written block, through {@link VolumeFs#writeKeepingTimes} as the FUSE
 * layer calls it with the writeback cache: runs of whole blocks (1 MiB writes by default, as the
 * kernel sends them during a bulk load). Three kinds of write, each timed in the writing thread's
 * CPU (user and system) over the write calls alone, not the fsyncs: {@code fresh} (a new file:
 * every block a hole), {@code owned} (an overwrite of blocks the file alone owns: in place) and
 * {@code shared} (an overwrite after a snapshot: every block copied). Prints per round and the
 * median per kind, in microseconds of CPU per MiB written.
 *
 * <p>System properties: {@code bench.mib} (file size, default 256), {@code bench.write} (bytes
 * per write, default 1048576), {@code bench.rounds} (default 5), {@code bench.dir} (parent of the
 * pool, default the temporary directory).
 *
 * <pre>java -cp tools/target/classes:$(cat tools/target/classpath.txt) io.clonefs.bench.WriteCpuBench</pre>
 */
public final class WriteCpuBench {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private WriteCpuBench() {
    }

    public static void main(String[] args) throws Exception {
        long mib = Long.getLong("bench.mib", 256);
        int writeSize = Integer.getInteger("bench.write", 1 << 20);
        int rounds = Integer.getInteger("bench.rounds", 5);
        Path parent = Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir")));
        Path pool = Files.createTempDirectory(parent, "clonefs-writecpu-");
        String[] kinds = {"fresh", "owned", "shared"};
        List<List<Double>> cpu = new ArrayList<>();
        List<List<Double>> user = new ArrayList<>();
        for (int k = 0; k < kinds.length; k++) {
            cpu.add(new ArrayList<>());
            user.add(new ArrayList<>());
        }
        try {
            Engine.init(pool, Engine.DEFAULT_BLOCK_SIZE);
            try (Engine e = Engine.open(pool)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(writeSize);
                byte[] fill = new byte[writeSize];
                new Random(1).nextBytes(fill);
                buf.put(fill).flip();
                for (int r = 0; r < rounds; r++) {
                    String vol = "v" + r;
                    e.createVolume(vol);
                    VolumeFs fs = e.volume(vol);
                    InodeAttr f = fs.create(InodeId.ROOT, "f", 0644, 0, 0);
                    long size = mib << 20;
                    double[][] got = new double[kinds.length][];
                    got[0] = writeAll(fs, f.ino(), size, buf);
                    got[1] = writeAll(fs, f.ino(), size, buf);
                    e.snapshot(vol, "s");
                    got[2] = writeAll(fs, f.ino(), size, buf);
                    StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
                    for (int k = 0; k < kinds.length; k++) {
                        cpu.get(k).add(got[k][0] / mib);
                        user.get(k).add(got[k][1] / mib);
                        line.append(String.format(Locale.ROOT, "  %s %.0f us/MiB (user %.0f)", kinds[k], got[k][0] / mib,
                                got[k][1] / mib));
                    }
                    System.out.println(line);
                    e.destroy(vol + "@s", false);
                    e.destroy(vol, false);
                    e.sync();
                }
            }
        } finally {
            BenchSupport.deleteTree(pool);
        }
        StringBuilder med = new StringBuilder("median of " + rounds + ", " + mib + " MiB in " + writeSize + "-byte writes:");
        for (int k = 0; k < kinds.length; k++) {
            med.append(String.format(Locale.ROOT, "  %s %.0f us/MiB (user %.0f)", kinds[k], median(cpu.get(k)),
                    median(user.get(k))));
        }
        System.out.println(med);
    }

    /** Writes {@code size} bytes from 0, fsyncs every 64 MiB; returns {cpu, user} microseconds of the write calls. */
    private static double[] writeAll(VolumeFs fs, InodeId ino, long size, ByteBuffer buf) {
        long cpu = 0;
        long user = 0;
        int n = buf.capacity();
        for (long off = 0; off < size; off += n) {
            buf.clear();
            long c0 = THREADS.getCurrentThreadCpuTime();
            long u0 = THREADS.getCurrentThreadUserTime();
            fs.writeKeepingTimes(ino, off, buf);
            cpu += THREADS.getCurrentThreadCpuTime() - c0;
            user += THREADS.getCurrentThreadUserTime() - u0;
            if ((off + n) % (64L << 20) == 0) {
                fs.fsync(ino, true);
            }
        }
        fs.fsync(ino, true);
        return new double[] {cpu / 1e3, user / 1e3};
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }
}
