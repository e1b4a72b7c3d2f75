package io.clonefs.daemon;

import io.clonefs.api.ControlException;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts a daemon as a detached child process (same JVM flags and class path, {@code --foreground},
 * its own session, output appended to {@code POOL/daemon.log}) and waits until it is ready: it
 * published {@code daemon.json} with its pid, its control API answers, and the kernel lists the
 * mount. If the child exits first, its one-line error (the last {@code clonefs: } line it logged)
 * and its exit code are reported.
 */
public final class DaemonLauncher {
    private DaemonLauncher() {
    }

    /** The daemon did not start; {@code exitCode} is the child's (or 1). */
    public static final class StartFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int exitCode;

        public StartFailure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    /**
     * @param mainClass  the class whose {@code main} runs the CLI
     * @param daemonArgs the CLI arguments of the foreground daemon
     */
    public static DaemonInfo start(Path pool, Path mountpoint, String mainClass, List<String> daemonArgs,
                                   Duration timeout) {
        Path log = DaemonFiles.log(pool);
        long offset;
        try {
            if (!Files.exists(log)) {
                DaemonFiles.writePrivate(log, new byte[0]);
            }
            offset = Files.size(log);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot write " + log + ": " + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid"); // its own session: no SIGHUP/SIGINT from the caller's terminal
        }
        cmd.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        // a daemon idle most of the day gives back the heap it no longer uses: G1 runs a concurrent
        // cycle after 10 s without a collection and uncommits free regions (without it, the heap
        // an import or a busy hour grew to stays resident for good); JAVA_OPTS may set another
        cmd.add("-XX:G1PeriodicGCInterval=10000");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // the launcher's quick-start flags suit short commands, not the daemon: C1 only, the
            // serial GC, and the class-data archive of the client's classes (which would stand in
            // for the JDK's own archive, without the classes the daemon needs)
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-javaagent")
                    && !a.startsWith("-XX:TieredStopAtLevel") && !a.equals("-XX:+UseSerialGC")
                    && !a.startsWith("-XX:SharedArchiveFile=") && !a.startsWith("-Xshare:") && !a.startsWith("-Xlog:cds")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(daemonArgs);

        Process p;
        try {
            // in the caller's working directory, as before; output appended to the daemon's log
            p = Command.of(cmd).directory(Path.of("").toAbsolutePath()).start(log);
        } catch (UncheckedIOException e) {
            throw new StartFailure(1, "cannot start the daemon: " + e.getCause().getMessage());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                int code = p.exitValue();
                throw new StartFailure(code == 0 ? 1 : code, lastError(log, offset)
                        .orElse("the daemon exited with status " + code + "; see " + log));
            }
            Optional<DaemonInfo> info = DaemonFiles.readInfo(pool);
            if (info.isPresent() && info.get().pid() == p.pid()) {
                try {
                    DaemonClient c = new DaemonClient(info.get(), DaemonFiles.readToken(pool));
                    if (c.answers() && Mounts.find(mountpoint).isPresent()) {
                        return info.get();
                    }
                } catch (ControlException e) {
                    // not yet
                }
            }
            sleep(50);
        }
        p.destroy();
        sleep(2000);
        p.destroyForcibly();
        throw new StartFailure(1, "the daemon did not become ready within " + timeout.toSeconds() + " s; see " + log);
    }

    /** The last {@code clonefs: } line the daemon wrote after {@code offset}, without the prefix. */
    static Optional<String> lastError(Path log, long offset) {
        String text;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(offset, len - 64 * 1024);
            byte[] b = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(b);
            text = new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return Optional.empty();
        }
        String found = null;
        String lastLine = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("clonefs: ")) {
                found = line.substring("clonefs: ".length());
            }
            if (!line.isBlank()) {
                lastLine = line.trim();
            }
        }
        return Optional.ofNullable(found != null ? found : lastLine);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartFailure(1, "interrupted while waiting for the daemon");
        }
    }
}
