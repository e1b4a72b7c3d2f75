package io.clonefs.bench;

import io.clonefs.base.Command;
import io.clonefs.base.FileTrees;
import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.VolumeFs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * What the demo and the benchmark share: deterministic, incompressible file contents that can be
 * checked afterwards, loading files through {@link VolumeFs}, latency statistics, byte formatting,
 * the pool's size on disk and a description of the machine.
 *
 * <p>Contents: every 8 KiB piece of a file is a slice of one fixed random buffer chosen by the file's
 * seed and the offset, with the seed and the offset stamped in its first 16 bytes, so that no two
 * pieces of any file are equal and a reader can tell which file and offset bytes came from.
 */
final class BenchSupport {
    static final int PIECE = 8192;
    static final int IO_SIZE = 128 * 1024;
    static final long MIB = 1024L * 1024;
    static final long GIB = 1024L * MIB;

    private static final int RANDOM_SPAN = 4 << 20;
    private static final byte[] RANDOM = new byte[RANDOM_SPAN + PIECE];

    static {
        new Random(20240501L).nextBytes(RANDOM);
    }

    private BenchSupport() {
    }

    /** Fills {@code dst} from its position with {@code len} bytes of file {@code seed} at {@code offset} (a multiple of 8 KiB). */
    static void fill(ByteBuffer dst, long seed, long offset, int len) {
        if (offset % PIECE != 0) {
            throw new IllegalArgumentException("offset must be a multiple of " + PIECE + ": " + offset);
        }
        int done = 0;
        while (done < len) {
            long off = offset + done;
            int n = Math.min(PIECE, len - done);
            int start = (int) Math.floorMod(seed * 0x9E3779B97F4A7C15L + off, (long) RANDOM_SPAN);
            int at = dst.position();
            dst.put(RANDOM, start, n);
            if (n >= 16) {
                dst.putLong(at, seed);
                dst.putLong(at + 8, off);
            }
            done += n;
        }
    }

    /** Creates {@code name} in {@code dir} and writes {@code size} bytes of file {@code seed} with 128 KiB writes. */
    static InodeAttr writeFile(VolumeFs fs, InodeId dir, String name, long seed, long size, ByteBuffer buf) {
        InodeAttr attr = fs.create(dir, name, 0644, 0, 0);
        writeRange(fs, attr.ino(), seed, 0, size, buf);
        return attr;
    }

    /** Writes bytes {@code [from, from+len)} of file {@code seed} into {@code ino} with 128 KiB writes. */
    static void writeRange(VolumeFs fs, InodeId ino, long seed, long from, long len, ByteBuffer buf) {
        long end = from + len;
        for (long off = from; off < end; off += IO_SIZE) {
            int n = (int) Math.min(IO_SIZE, end - off);
            buf.clear();
            fill(buf, seed, off, n);
            buf.flip();
            int written = fs.write(ino, off, buf);
            if (written != n) {
                throw new IllegalStateException("short write: " + written + " of " + n + " at " + off);
            }
        }
    }

    /** Reads {@code len} bytes at {@code offset} of {@code ino} (looping over short reads). */
    static byte[] read(VolumeFs fs, InodeId ino, long offset, int len) {
        ByteBuffer dst = ByteBuffer.allocate(len);
        while (dst.hasRemaining()) {
            int n = fs.read(ino, offset + dst.position(), dst);
            if (n <= 0) {
                break;
            }
        }
        return Arrays.copyOf(dst.array(), dst.position());
    }

    /** The expected bytes of file {@code seed} at {@code offset}. */
    static byte[] expected(long seed, long offset, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        fill(b, seed, offset, len);
        return b.array();
    }

    /** Rounds {@code bytes} down to a multiple of 8 KiB, at least 8 KiB. */
    static long pieces(long bytes) {
        return Math.max(PIECE, bytes / PIECE * PIECE);
    }

    static String hex(byte[] b, int from, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = from; i < Math.min(from + n, b.length); i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return s.toString();
    }

    static String bytes(long n) {
        double v = n;
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? n + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }

    static String us(double nanos) {
        return String.format(Locale.ROOT, "%.1f µs", nanos / 1e3);
    }

    static String mbps(long bytes, long nanos) {
        return String.format(Locale.ROOT, "%.0f MB/s", bytes / 1e6 / (nanos / 1e9));
    }

    /** Latency samples in nanoseconds. */
    record Latencies(long[] sorted) {
        static Latencies of(long[] samples) {
            long[] s = samples.clone();
            Arrays.sort(s);
            return new Latencies(s);
        }

        double avg() {
            return Arrays.stream(sorted).average().orElse(0);
        }

        long pct(double q) {
            if (sorted.length == 0) {
                return 0;
            }
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
        }

        long max() {
            return sorted.length == 0 ? 0 : sorted[sorted.length - 1];
        }

        int count() {
            return sorted.length;
        }
    }

    static long median(long[] samples) {
        long[] s = samples.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Bytes allocated on disk under {@code dir} ({@code du -s -B1}; the apparent size if du fails). */
    static long diskUsage(Path dir) {
        String out = run("du", "-s", "-B1", dir.toString());
        if (out != null && !out.isBlank()) {
            try {
                return Long.parseLong(out.trim().split("\\s+")[0]);
            } catch (NumberFormatException e) {
                // fall through to the apparent size
            }
        }
        long[] total = {0};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    total[0] += attrs.size();
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return total[0];
    }

    /** Runs a command and returns its standard output, or null if it could not run or failed. */
    static String run(String... command) {
        try {
            Command.Result r = Command.of(command).timeout(Duration.ofSeconds(30)).run();
            return r.ok() ? r.out() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Drops the kernel's clean page cache (root only) so that the next reads come from the disk. */
    static boolean dropCaches() {
        run("sync");
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3\n");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** A benchmark's body. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /**
     * Runs a benchmark's {@code body}, then {@code cleanup} (idempotent: it also runs from a
     * shutdown hook, so an interrupted run stops its servers and unmounts), and exits 0, or 1
     * after printing what failed.
     */
    static void runCleaningUp(String name, Body body, Runnable cleanup) {
        Thread hook = new Thread(cleanup, name + "-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        int exit = 0;
        try {
            body.run();
        } catch (Throwable t) {
            t.printStackTrace();
            exit = 1;
        } finally {
            cleanup.run();
        }
        Runtime.getRuntime().removeShutdownHook(hook);
        System.exit(exit);
    }

    /**
     * Replaces the text between {@code begin} and {@code end} (markers included) in a report file
     * with {@code section} (which carries both markers), or appends it; the file is read just
     * before it is written, since other benchmarks write other sections of it.
     */
    static void replaceSection(Path file, String begin, String end, CharSequence section) throws IOException {
        String current = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8)
                : "# Benchmarks\n\nEach section below is written by the command in its title, from one real run on "
                + "the machine it describes. Nothing here is typed by hand.\n\n";
        int b = current.indexOf(begin);
        int e = current.indexOf(end);
        String updated;
        if (b >= 0 && e > b) {
            updated = current.substring(0, b) + section + current.substring(e + end.length()).replaceFirst("^\n", "");
        } else {
            updated = current + (current.endsWith("\n\n") ? "" : current.endsWith("\n") ? "\n" : "\n\n") + section;
        }
        Files.writeString(file, updated, StandardCharsets.UTF_8);
    }

    /** The host's load average over 1, 5 and 15 minutes ({@code /proc/loadavg}), e.g. {@code "1.26 2.31 2.27"}; "?" if unreadable. */
    static String loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** Removes a directory tree (best effort). */
    static void deleteTree(Path dir) {
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            System.err.println("warning: could not remove " + dir + ": " + e.getMessage());
        }
    }

    /** One line per fact: CPUs, memory, the disk under {@code dir}, kernel, Java. */
    static String machine(Path dir) {
        StringBuilder s = new StringBuilder();
        String nproc = run("nproc");
        s.append("- CPUs (`nproc`): ").append(nproc == null ? Runtime.getRuntime().availableProcessors() : nproc.trim());
        String model = firstMatch(readOrNull(Path.of("/proc/cpuinfo")), "model name");
        if (model != null) {
            s.append(" × ").append(model);
        }
        s.append('\n');
        String mem = firstMatch(readOrNull(Path.of("/proc/meminfo")), "MemTotal");
        if (mem != null) {
            long kib = Long.parseLong(mem.replaceAll("[^0-9]", ""));
            s.append("- memory: ").append(bytes(kib * 1024)).append('\n');
        }
        String df = run("df", "-h", "--output=source,fstype,size,avail", dir.toString());
        if (df != null) {
            String[] lines = df.strip().split("\n");
            s.append("- pool filesystem (`df -h`): `").append(lines[lines.length - 1].trim().replaceAll("\\s+", " "))
                    .append("` (source, type, size, available)\n");
        }
        String lsblk = run("lsblk", "-d", "-n", "-o", "NAME,SIZE,ROTA,MODEL");
        if (lsblk != null && !lsblk.isBlank()) {
            s.append("- disks (`lsblk -d -o NAME,SIZE,ROTA,MODEL`): ");
            s.append(String.join("; ", lsblk.strip().lines().map(l -> "`" + l.trim().replaceAll("\\s+", " ") + "`")
                    .toList())).append('\n');
        }
        String uname = run("uname", "-sr");
        s.append("- kernel: ").append(uname == null ? System.getProperty("os.version") : uname.trim()).append('\n');
        s.append("- java: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append('\n');
        return s.toString();
    }

    private static String readOrNull(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return null;
        }
    }

    private static String firstMatch(String text, String key) {
        if (text == null) {
            return null;
        }
        return text.lines().filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf(':') + 1).trim())
                .findFirst().orElse(null);
    }
}
