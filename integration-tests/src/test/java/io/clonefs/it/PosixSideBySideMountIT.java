package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.Command;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import io.clonefs.it.support.Proc;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The POSIX corners the conformance suite ({@code make conformance}, RELIABILITY.md) singles out,
 * done side by side in a directory on the host's ext4 and in a volume of a real mount (the
 * daemon's: {@code allow_other}, {@code default_permissions}) and the outcomes compared: the link
 * count every name of a hard-linked file shows after link, unlink and rename; who may unlink and
 * rename in a sticky directory (two users besides root); and {@code O_EXCL} (and mkdir, symlink,
 * link) races between threads: one winner per name, {@code EEXIST} for every other, as on ext4.
 * Needs root, /dev/fuse and the users {@code postgres} and {@code nobody}.
 */
class PosixSideBySideMountIT {
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("posix-side").build();

    /**
     * One mount for the three parts (a mount and unmount cost more than a part): each works in a
     * subdirectory of its own on both sides.
     */
    @Test
    void hardLinksStickyDirectoriesAndExclusiveCreatesAsOnExt4() throws Exception {
        pools.clonefs().ok("create", "v");
        Path ext4 = Files.createDirectory(pools.ws().root().resolve("ext4"));
        assertEquals("ext4", sh("stat", "-f", "-c", "%T", ext4.toString()).out().trim().replace("ext2/ext3", "ext4"),
                "the baseline directory must be on ext4");
        List<Path> roots = List.of(ext4, pools.mnt().resolve("v"));
        everyNameOfAHardLinkedFileShowsItsLinkCount(subdirs(roots, "links"));
        stickyDirectoriesLetOnlyOwnersUnlinkAndRename(subdirs(roots, "sticky"));
        exclusiveCreatesRacingForANameHaveOneWinner(subdirs(roots, "races"));
    }

    private static List<Path> subdirs(List<Path> roots, String name) throws IOException {
        List<Path> dirs = new ArrayList<>();
        for (Path r : roots) {
            Path d = Files.createDirectory(r.resolve(name));
            sh("chmod", "0755", d.toString()).check();
            dirs.add(d);
        }
        return dirs;
    }

    /**
     * The link count of every name right after each step, as on ext4. libfuse 2's path-based API
     * gives each name of a hard-linked file a kernel inode of its own; the request loop drops the
     * other names' cached attributes before it answers a link, unlink, rename, chmod or chown of
     * such a file ({@code ReplyHook}), so none shows an old count.
     */
    private static void everyNameOfAHardLinkedFileShowsItsLinkCount(List<Path> roots) throws IOException {
        // each step, then the link count of every name; rename of one name onto another of the same
        // file succeeds and does nothing (POSIX)
        String script = """
                set -e
                show() { for n in "$@"; do printf '%s:' "$n"; stat -c %h "$n"; done; echo "-- $step"; }
                step=create; echo x > a; mkfifo p; show a p
                step='ln a b'; ln a b; show a b
                step='ln b c'; ln b c; show a b c
                step='ln p q'; ln p q; show p q
                step='rm a'; rm a; show b c
                step='mv c d'; mv c d; show b d
                step='rename b d, the same file'; python3 -c 'import os; os.rename("b", "d")'; show b d
                step='ln d e, echo y > e'; ln d e; echo y > e; show b d e; cat d
                step='rm b d'; rm b d; show e
                step='rm p'; rm p; show q
                """;
        String ext4 = sameOnBoth(roots, r -> Proc.run(List.of("sh", "-c", "cd " + r + " && " + script),
                Map.of(), Duration.ofMinutes(1))).out();
        assertTrue(ext4.contains("a:3\nb:3\nc:3\n-- ln b c"), ext4);
        assertTrue(ext4.contains("b:2\nd:2\n-- rename b d"), ext4);
        assertTrue(ext4.contains("e:1\n-- rm b d"), ext4);
    }

    private static void stickyDirectoriesLetOnlyOwnersUnlinkAndRename(List<Path> roots) throws IOException {
        for (Path r : roots) {
            sh("sh", "-c", "cd " + r + " && mkdir t p o && chmod 1777 t && chown postgres p && chmod 1777 p"
                    + " && chmod 0777 o").check();
            asUser("postgres", r, "touch t/pgf t/pgf2 o/pgf && mkdir t/pgd").check();
            asUser("nobody", r, "touch t/nbf p/nbf").check();
        }
        List<String[]> steps = List.of(
                new String[] {"nobody", "rm -f t/pgf"}, // another user's file in a sticky directory
                new String[] {"nobody", "mv t/pgf t/moved"},
                new String[] {"nobody", "mv t/nbf t/pgf"}, // over another user's file
                new String[] {"nobody", "rmdir t/pgd"},
                new String[] {"nobody", "mv t/pgd t/pgd2"},
                new String[] {"nobody", "mv t/nbf t/nbf2"}, // its own file: allowed
                new String[] {"postgres", "rm -f t/nbf2"},
                new String[] {"postgres", "mv -f t/pgf2 t/nbf2"},
                new String[] {"postgres", "mv t/pgf t/pgf3"},
                new String[] {"postgres", "rm -f p/nbf"}, // the directory's owner: allowed
                new String[] {"nobody", "rm -f o/pgf"}, // no sticky bit: allowed
                new String[] {"root", "rm -f t/nbf2 && rmdir t/pgd"});
        int refused = 0;
        for (String[] s : steps) {
            Proc.Result res = sameOnBoth(roots, r -> asUser(s[0], r, s[1]));
            refused += res.ok() ? 0 : 1;
        }
        assertEquals(7, refused, "the steps refused on ext4");
        assertEquals(listing(roots.get(0)), listing(roots.get(1)), "ext4 and the volume differ after the same steps");
    }

    private static void exclusiveCreatesRacingForANameHaveOneWinner(List<Path> roots) throws Exception {
        List<String> outcomes = new ArrayList<>();
        for (Path r : roots) {
            outcomes.add(races(r));
        }
        assertEquals(outcomes.get(0), outcomes.get(1), "ext4 and the volume differ");
        // a dangling symlink is a name that exists for O_EXCL, and is followed without it
        for (Path r : roots) {
            Files.createSymbolicLink(r.resolve("dangling"), Path.of("target"));
            try {
                Files.createFile(r.resolve("dangling"));
                throw new AssertionError("O_CREAT|O_EXCL through a dangling symlink succeeded on " + r);
            } catch (FileAlreadyExistsException expected) {
                // as POSIX says
            }
            FileChannel.open(r.resolve("dangling"), StandardOpenOption.CREATE, StandardOpenOption.WRITE).close();
            assertTrue(Files.isRegularFile(r.resolve("target")), r.toString());
        }
    }

    /**
     * Threads racing on the same names in {@code root}: O_CREAT|O_EXCL, mkdir, symlink and link
     * each have exactly one winner per name and EEXIST for the others; O_CREAT alone opens for
     * everyone; create/unlink churn on a few names keeps created - unlinked = present. Returns a
     * summary that does not depend on the interleaving.
     */
    private static String races(Path root) throws Exception {
        int threads = 8;
        int names = 150;
        Map<String, String> summary = new TreeMap<>();
        Files.createFile(root.resolve("source"));
        for (String op : List.of("create", "mkdir", "symlink", "link", "open")) {
            Path dir = Files.createDirectory(root.resolve("race-" + op));
            Map<Integer, AtomicInteger> wins = new ConcurrentHashMap<>();
            AtomicInteger exists = new AtomicInteger();
            List<String> other = Collections.synchronizedList(new ArrayList<>());
            runThreads(threads, t -> {
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < names; i++) {
                    order.add(i);
                }
                Collections.shuffle(order, new Random(t));
                for (int i : order) {
                    Path p = dir.resolve("n" + i);
                    try {
                        switch (op) {
                            case "create" -> Files.createFile(p);
                            case "mkdir" -> Files.createDirectory(p);
                            case "symlink" -> Files.createSymbolicLink(p, Path.of("target-" + i));
                            case "link" -> Files.createLink(p, root.resolve("source"));
                            default -> FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE).close();
                        }
                        wins.computeIfAbsent(i, k -> new AtomicInteger()).incrementAndGet();
                    } catch (FileAlreadyExistsException e) {
                        exists.incrementAndGet();
                    } catch (IOException e) {
                        other.add(op + " " + p.getFileName() + ": " + e);
                    }
                }
            });
            assertEquals(List.of(), other, "unexpected errors on " + root);
            long oneWinner = wins.values().stream().filter(w -> w.get() == 1).count();
            summary.put(op, "names " + wins.size() + ", with one winner " + oneWinner + ", EEXIST " + exists.get());
            int expectWinners = op.equals("open") ? threads : 1;
            assertTrue(wins.values().stream().allMatch(w -> w.get() == expectWinners) && wins.size() == names,
                    op + " on " + root + ": " + summary.get(op));
        }
        // read at once: every link through another name dropped the source's cached attributes
        assertEquals(String.valueOf(names + 1), sh("stat", "-c", "%h", root.resolve("source").toString())
                .out().trim(), "links of the source after the link race");

        // create/unlink churn: created - unlinked must match what is there at the end
        Path dir = Files.createDirectory(root.resolve("churn"));
        int[] created = new int[4];
        int[] removed = new int[4];
        runThreads(threads, t -> {
            Random rnd = new Random(100 + t);
            for (int k = 0; k < 400; k++) {
                int i = rnd.nextInt(4);
                Path p = dir.resolve("n" + i);
                try {
                    if (rnd.nextBoolean()) {
                        Files.createFile(p);
                        synchronized (created) {
                            created[i]++;
                        }
                    } else {
                        Files.delete(p);
                        synchronized (created) {
                            removed[i]++;
                        }
                    }
                } catch (FileAlreadyExistsException | NoSuchFileException e) {
                    // lost the race: the expected errors
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
        });
        for (int i = 0; i < 4; i++) {
            int present = Files.exists(dir.resolve("n" + i)) ? 1 : 0;
            assertEquals(present, created[i] - removed[i], "n" + i + " on " + root + ": created " + created[i]
                    + ", unlinked " + removed[i]);
        }
        summary.put("churn", "consistent");
        return summary.toString();
    }

    @FunctionalInterface
    private interface Body {
        void run(int thread) throws Exception;
    }

    /** Runs {@code body} on {@code n} threads released together; rethrows the first failure. */
    private static void runThreads(int n, Body body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                int id = t;
                fs.add(pool.submit(() -> {
                    start.await();
                    body.run(id);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

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
        return a;
    }

    private static String mask(String s, Path root) {
        return s.replace(root.toString(), "ROOT");
    }

    /** {@code script} run by {@code user} in {@code root} (relative paths). */
    private static Proc.Result asUser(String user, Path root, String script) {
        Command c = Command.of("sh", "-c", "cd " + root + " && " + script).timeout(Duration.ofMinutes(1));
        return new Proc.Result((user.equals("root") ? c : c.asUser(user)).run());
    }

    private static Proc.Result sh(String... cmd) {
        return Proc.run(List.of(cmd), Map.of(), Duration.ofMinutes(1));
    }

    /** name, type, mode, owner of everything under root, sorted. */
    private static String listing(Path root) {
        return sh("sh", "-c", "cd " + root + " && find . -mindepth 1 | sort | xargs stat -c '%n|%F|%a|%U|%G'").check().out();
    }
}
