package io.clonefs.cli;

import io.clonefs.api.PgClient;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.base.MountTable;
import io.clonefs.cli.common.CliException;
import io.clonefs.cli.common.Output;
import io.clonefs.daemon.DaemonClient;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.daemon.DaemonInfo;
import io.clonefs.daemon.Mounts;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Stops the daemon serving a mount point. The daemon is found through the mount registry entry it
 * wrote (see {@code io.clonefs.daemon}), else through the {@code daemon.json} of {@code --pool}.
 * Like umount(8), it refuses while the mount is busy (unless {@code --force}): it unmounts with
 * {@code fusermount -u} first, then the daemon is asked to stop over the control API (SIGTERM if it
 * does not answer; it commits everything and exits), and this command waits
 * until the process is gone and the kernel no longer lists the mount. A FUSE mount whose daemon is
 * dead (after {@code kill -9}) is detached with {@code fusermount -u -z}.
 */
@CommandLine.Command(name = "umount", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs umount /mnt/clonefs", "  clonefs umount --force /mnt/clonefs"},
        description = {"Unmount MOUNTPOINT and stop its daemon (flushing everything).",
    "Also detaches a stale mount whose daemon died."})
final class UmountCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where the pool is mounted.")
    Path mountpoint;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for the daemon to stop (default: 60).")
    int timeoutSeconds;

    @Option(names = {"-f", "--force"},
            description = "Stop even while the mount is busy (it is detached lazily; open files then fail).")
    boolean force;

    @Override
    public Integer call() throws InterruptedException {
        Path mp = mountpoint.toAbsolutePath().normalize();
        Optional<DaemonInfo> info = DaemonFiles.lookup(mp);
        if (info.isEmpty()) {
            info = DaemonFiles.readInfo(pool()).filter(i -> Path.of(i.mountpoint()).equals(mp));
        }
        Optional<MountTable.Entry> mounted = Mounts.find(mp);
        if (info.isPresent() && DaemonClient.alive(info.get().pid())) {
            DaemonInfo d = info.get();
            ProcessHandle ph = ProcessHandle.of(d.pid()).orElseThrow();
            // the PostgreSQL servers the daemon runs stop with it (and come back on the next mount)
            stopPostgresServers(d);
            if (mounted.isPresent() && !force) {
                unmountUnlessBusy(mp);
            }
            try {
                new DaemonClient(d, DaemonFiles.readToken(Path.of(d.pool()))).shutdown();
            } catch (RuntimeException e) {
                ph.destroy(); // SIGTERM: the daemon's shutdown hook unmounts and commits
            }
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            while (ph.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (ph.isAlive()) {
                throw new CliException(ExitCodes.GENERAL, "the daemon (pid " + d.pid() + ") of " + mp
                        + " did not stop within " + timeoutSeconds + " s; see " + DaemonFiles.log(Path.of(d.pool())));
            }
            if (Mounts.find(mp).isPresent()) {
                Mounts.detachStale(mp);
            }
            report(mp, d.pool(), "unmounted " + mp);
            return ExitCodes.OK;
        }
        if (mounted.isPresent() && mounted.get().fuse()) {
            if (!Mounts.detachStale(mp)) {
                throw new CliException(ExitCodes.GENERAL, "cannot detach the stale mount " + mp
                        + " (try 'fusermount -u -z " + mp + "')");
            }
            info.ifPresent(i -> {
                DaemonFiles.deleteQuietly(DaemonFiles.registryEntry(mp));
                if (DaemonFiles.readInfo(Path.of(i.pool())).map(x -> x.pid() == i.pid()).orElse(false)) {
                    DaemonFiles.deleteQuietly(DaemonFiles.info(Path.of(i.pool())));
                }
            });
            report(mp, info.map(DaemonInfo::pool).orElse(null), "detached stale mount " + mp + " (its daemon was not running)");
            return ExitCodes.OK;
        }
        info.ifPresent(i -> DaemonFiles.deleteQuietly(DaemonFiles.registryEntry(mp)));
        if (mounted.isPresent()) {
            throw new ClonefsException.InvalidArgument(mp + " is not a clonefs mount (" + mounted.get().fstype() + ")");
        }
        throw new ClonefsException.NotFound(mp + " is not mounted");
    }

    /**
     * Unmounts the way umount(8) does, refusing while files are open or a process works inside, so
     * that a server still running on the mount is not cut off. The daemon then finds its mount gone.
     */
    private static void unmountUnlessBusy(Path mp) throws InterruptedException {
        Command.Result r;
        try {
            r = Command.of("fusermount", "-u", mp.toString()).mergeStderr().timeout(Duration.ofSeconds(30)).run();
        } catch (Command.Aborted e) {
            if (Thread.interrupted()) {
                throw new InterruptedException(e.getMessage());
            }
            return; // let the daemon deal with it
        } catch (UncheckedIOException e) {
            return; // no fusermount: the daemon unmounts
        }
        String out = r.out().strip();
        int exit = r.exit();
        if (exit != 0 && Mounts.find(mp).isPresent() && out.toLowerCase(Locale.ROOT).contains("busy")) {
            throw new CliException(ExitCodes.CONFLICT, mp + " is busy (files open or a process inside, e.g. PostgreSQL);"
                    + " stop them first, or use --force for a lazy unmount");
        }
    }

    private void report(Path mp, String pool, String text) {
        if (json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mountpoint", mp.toString());
            m.put("pool", pool);
            Output.json(out(), m);
        } else {
            out().println(text);
        }
    }

    /**
     * Asks the daemon to stop the PostgreSQL servers it runs, so that its mount can be unmounted
     * (they start again on the next mount). Quiet: a daemon without them, or one that does not
     * answer, is left to the unmount's own checks.
     */
    private static void stopPostgresServers(DaemonInfo daemon) {
        try {
            new PgClient(new DaemonClient(daemon, DaemonFiles.readToken(Path.of(daemon.pool()))).http()).stopAll();
        } catch (RuntimeException e) {
            // not ours to report: the unmount says what is busy
        }
    }
}
