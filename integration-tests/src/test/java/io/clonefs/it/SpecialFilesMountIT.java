package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.KernelMounts;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * FIFOs, character and block devices and Unix domain sockets on a real mount (the daemon's:
 * {@code allow_other}), each step done side by side in a directory on the host's ext4 and in a
 * volume, and the outcomes (exit codes, messages without paths, {@code stat} lines) compared:
 * pipes pass data, devices only for root (EPERM otherwise) and not opened (the mount is nodev),
 * sockets bind and connect, rename,
 * unlink, link, chmod, chown and utimens as on ext4, {@code tar -x} and {@code cp -a} of a tree
 * holding them; a snapshot and a clone show the nodes; a node survives {@code kill -9} of the
 * daemon once its directory is fsynced. Needs root and /dev/fuse.
 */
class SpecialFilesMountIT {
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("special").build();

    /** {@code stat} fields compared: name, type, mode, uid, gid, links, device major:minor, size, atime, mtime. */
    private static final String STAT = "%n|%F|%a|%u|%g|%h|%t:%T|%s|%X|%Y";

    @Test
    void specialFilesBehaveAsOnExt4() throws Exception {
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        cfs.ok("create", "v");
        Path ext4 = Files.createDirectory(pools.ws().root().resolve("ext4"));
        assertEquals("ext4", sh("stat", "-f", "-c", "%T", ext4.toString()).out().trim().replace("ext2/ext3", "ext4"),
                "the baseline directory must be on ext4");
        Path vol = mnt.resolve("v");
        List<Path> roots = List.of(ext4, vol);

        // FIFO: mkfifo, then data through it (open for read and for write meet in the kernel)
        for (Path r : roots) {
            sh("mkfifo", "-m", "0640", r.resolve("fifo").toString()).check();
            assertEquals("hello through " + r.getFileName(), throughFifo(r.resolve("fifo"), "hello through " + r.getFileName()));
            // O_RDWR open of a FIFO does not block on Linux: write then read on one descriptor
            try (FileChannel ch = FileChannel.open(r.resolve("fifo"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                ByteBuffer b = ByteBuffer.allocate(3);
                ch.read(b);
                assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), List.of(b.get(0), b.get(1), b.get(2)));
            }
        }
        // devices as root, with their numbers; /dev/null's twin works as /dev/null does
        sameOnBoth(roots, r -> sh("mknod", "-m", "0666", r.resolve("null").toString(), "c", "1", "3"));
        sameOnBoth(roots, r -> sh("mknod", "-m", "0660", r.resolve("loop").toString(), "b", "7", "200"));
        sameOnBoth(roots, r -> sh("mknod", r.resolve("bigminor").toString(), "c", "10", "1000"));
        // opening a device: ext4 (mounted with dev) reaches the driver; the clonefs mount is nodev
        // (libfuse's default, kept: a volume's devices are never opened through it), EACCES as on any nodev mount
        String useNull = "echo gone > %s && wc -c < %s";
        assertEquals("0", sh("sh", "-c", useNull.formatted(ext4.resolve("null"), ext4.resolve("null"))).check().out().trim());
        Proc.Result nodev = sh("sh", "-c", useNull.formatted(vol.resolve("null"), vol.resolve("null")));
        assertTrue(!nodev.ok() && nodev.err().contains("Permission denied"), nodev.describe());
        assertTrue(sh("findmnt", "-no", "OPTIONS", mnt.toString()).check().out().contains("nodev"));
        assertEquals("b|7:200", sh("stat", "-c", "%F|%Hr:%Lr", vol.resolve("loop").toString()).out().trim()
                .replace("block special file", "b"));
        // not root: devices refused (EPERM from the kernel, as on ext4), FIFOs allowed
        for (Path r : roots) {
            Files.createDirectory(r.resolve("pub"));
            sh("chmod", "1777", r.resolve("pub").toString()).check();
        }
        Proc.Result refused = sameOnBoth(roots, r -> Proc.runAsPostgres(List.of("mknod", r.resolve("pub/dev").toString(), "c",
                "1", "3"), Duration.ofSeconds(30)));
        assertTrue(refused.err().contains("Operation not permitted"), refused.describe());
        sameOnBoth(roots, r -> Proc.runAsPostgres(List.of("mknod", r.resolve("pub/blk").toString(), "b", "7", "0"),
                Duration.ofSeconds(30)));
        sameOnBoth(roots, r -> Proc.runAsPostgres(List.of("mkfifo", r.resolve("pub/fifo").toString()), Duration.ofSeconds(30)));
        // a Unix domain socket bound inside the directory, connected to, data both ways
        for (Path r : roots) {
            assertEquals("pong:ping", overSocket(r.resolve("sock")));
        }
        // rename, link (nlink of both names), chmod, chown, utimens, unlink
        for (Path r : roots) {
            String d = r.toString();
            sh("sh", "-c", "cd " + d + " && mv fifo fifo2 && ln fifo2 fifo3 && ln null null2 && chmod 0604 fifo3"
                    + " && chown 26:27 loop && chmod 4755 sock && touch -h -d @1000000000.5 null2 sock"
                    + " && touch -h -a -d @1200000000 loop && mv loop pub/loop && ln sock sock2 && rm null"
                    + " && ln pub/fifo pubfifo").check();
        }
        // a FIFO opened for write without a reader: ENXIO with O_NONBLOCK, the same on both
        sameOnBoth(roots, r -> sh("sh", "-c", "python3 -c \"import os; os.open('" + r.resolve("fifo2")
                + "', os.O_WRONLY | os.O_NONBLOCK)\" 2>&1 | tail -1 | sed 's,/[^ ]*,PATH,g'"));
        // tar -x and cp -a of a tree holding a FIFO, a socket and a device
        Path tree = Files.createDirectory(pools.ws().root().resolve("tree"));
        Files.writeString(tree.resolve("file"), "data");
        sh("mkfifo", tree.resolve("fifo").toString()).check();
        sh("mknod", tree.resolve("zero").toString(), "c", "1", "5").check();
        bindAndClose(tree.resolve("sock"));
        Path tar = pools.ws().root().resolve("tree.tar");
        sh("tar", "-cf", tar.toString(), "-C", tree.toString(), ".").check();
        for (Path r : roots) {
            Files.createDirectory(r.resolve("untar"));
            sh("tar", "-xpf", tar.toString(), "-C", r.resolve("untar").toString()).check();
            sh("cp", "-a", tree.toString(), r.resolve("copy").toString()).check();
        }
        String want = listing(ext4);
        assertEquals(want, listing(vol), "ext4 and the volume differ after the same steps");
        for (String n : List.of("fifo|fifo", "sock|socket", "zero|character special file|644|0|0|1|1:5", "pub/loop|block special file")) {
            String[] p = n.split("\\|", 2);
            assertTrue(want.contains("/" + p[0] + "|" + p[1]), "missing " + n + " in\n" + want);
        }
        assertTrue(want.contains("/fifo2|fifo|604|0|0|2|"), want); // two names after ln, chmod through the other
        assertTrue(want.contains("/copy/sock|socket|"), want); // cp -a makes the socket node (tar skips sockets)
        assertTrue(want.contains("/null2|character special file|666|0|0|1|1:3|0|1000000000|1000000000"), want);

        // a snapshot and a clone show the nodes as they were
        cfs.ok("snapshot", "v@s");
        cfs.ok("clone", "v@s", "c");
        String inVol = listing(vol);
        assertEquals(inVol, listing(mnt.resolve(".snapshots/v@s")));
        assertEquals(inVol, listing(mnt.resolve("c")));
        assertEquals("pong:ping", overSocket(mnt.resolve("c/newsock")));
        assertEquals("in the clone", throughFifo(mnt.resolve("c/fifo2"), "in the clone"));
        JsonNode fsck = cfs.json("fsck");
        assertTrue(fsck.get("clean").asBoolean(), fsck.toString());
    }

    @Test
    void aMknodNodeSurvivesKill9OfTheDaemonOnceItsDirectoryIsFsynced() throws Exception {
        Clonefs cfs = pools.clonefs();
        Path mnt = pools.mnt();
        cfs.ok("create", "v");
        Path dir = Files.createDirectory(mnt.resolve("v/d"));
        sh("mkfifo", "-m", "0620", dir.resolve("fifo").toString()).check();
        sh("mknod", "-m", "0640", dir.resolve("disk").toString(), "b", "8", "17").check();
        bindAndClose(dir.resolve("sock"));
        // the timer's commit (every second) makes the new entries durable before the chown, which
        // then only the directory's fsync can make durable (the node itself cannot be fsynced)
        Thread.sleep(1500);
        sh("chown", "26:27", dir.resolve("disk").toString()).check();
        String before = listing(dir);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // fsync(2) of the directory: FUSE_FSYNCDIR
        }
        long pid = cfs.daemonPid();
        assertTrue(pid > 0, "no daemon");
        Proc.kill9(pid);
        assertTrue(Proc.waitGone(pid, Duration.ofSeconds(30)));
        assertTrue(KernelMounts.forceUnmount(mnt), "cannot remove the dead mount");
        cfs.mount(mnt);
        assertEquals(before, listing(dir));
        assertTrue(before.contains("/disk|block special file|640|26|27|1|8:11|0|"), before);
        assertTrue(before.contains("/fifo|fifo|620|"), before);
        assertTrue(before.contains("/sock|socket|"), before);
        JsonNode fsck = cfs.json("fsck");
        assertTrue(fsck.get("clean").asBoolean(), fsck.toString());
    }

    // ---- helpers ---------------------------------------------------------------------------

    @FunctionalInterface
    private interface Step {
        Proc.Result run(Path root) throws IOException;
    }

    /** Runs the step in both roots; exit code and output (paths masked) must agree. */
    private static Proc.Result sameOnBoth(List<Path> roots, Step step) throws IOException {
        Proc.Result a = step.run(roots.get(0));
        Proc.Result b = step.run(roots.get(1));
        assertEquals(a.exit() + " " + mask(a.out(), roots.get(0)) + mask(a.err(), roots.get(0)),
                b.exit() + " " + mask(b.out(), roots.get(1)) + mask(b.err(), roots.get(1)),
                "ext4 and the volume disagree: " + a.describe() + "\n" + b.describe());
        return b;
    }

    private static String mask(String s, Path root) {
        return s.replace(root.toString(), "ROOT");
    }

    private static Proc.Result sh(String... cmd) {
        return Proc.run(List.of(cmd), Map.of(), Duration.ofMinutes(1));
    }

    /** stat lines of everything under root, sorted, root masked, times of sockets and FIFOs made now left out. */
    private static String listing(Path root) {
        Proc.Result r = sh("sh", "-c", "cd " + root + " && find . -mindepth 1 | sort | xargs stat -c '" + STAT + "'").check();
        List<String> out = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            String[] f = line.split("\\|");
            // directories' sizes and nlinks and the times the steps set themselves differ between file systems
            boolean dir = f[1].equals("directory");
            boolean setTime = List.of("./null2", "./sock", "./sock2").contains(f[0]);
            out.add(String.join("|", f[0], f[1], f[2], f[3], f[4], dir ? "-" : f[5], f[6], dir ? "-" : f[7],
                    setTime ? f[8] : "-", setTime ? f[9] : "-"));
        }
        return String.join("\n", out);
    }

    /** Writes {@code text} into the FIFO from one thread and reads it from another. */
    private static String throughFifo(Path fifo, String text) throws Exception {
        CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (OutputStream out = Files.newOutputStream(fifo, StandardOpenOption.WRITE)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return reader.get(30, TimeUnit.SECONDS);
    }

    /** Binds a socket at {@code path}, connects, sends "ping", answers "pong:" + what arrived. */
    private static String overSocket(Path path) throws Exception {
        UnixDomainSocketAddress addr = UnixDomainSocketAddress.of(path);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(addr);
            assertTrue(Files.exists(path), "bind made no node at " + path);
            CompletableFuture<Void> answer = CompletableFuture.runAsync(() -> {
                try (SocketChannel c = server.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(4);
                    while (b.hasRemaining() && c.read(b) >= 0) {
                        // read "ping"
                    }
                    c.write(ByteBuffer.wrap(("pong:" + new String(b.array(), StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8)));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (SocketChannel c = SocketChannel.open(addr)) {
                c.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)));
                ByteBuffer b = ByteBuffer.allocate(9);
                while (b.hasRemaining() && c.read(b) >= 0) {
                    // read "pong:ping"
                }
                answer.get(30, TimeUnit.SECONDS);
                return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
            }
        }
    }

    /** A socket node left behind at {@code path} (bound, then closed without unlinking, as daemons do). */
    private static void bindAndClose(Path path) throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(path));
        }
        assertTrue(Files.exists(path));
        assertFalse(Files.isRegularFile(path));
    }
}
