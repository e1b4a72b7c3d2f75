package io.clonefs.cli;

import io.clonefs.cli.common.CliException;
import io.clonefs.cli.common.Output;
import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.Daemon;
import io.clonefs.daemon.DaemonInfo;
import io.clonefs.daemon.DaemonLauncher;
import io.clonefs.fuse.MountOptions;
import io.clonefs.pg.daemon.PgPlugin;
import io.clonefs.remote.RemoteClient;
import io.clonefs.remote.RemotePlugin;
import io.clonefs.ui.UiPlugin;
import io.clonefs.webhook.WebhookPlugin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mount", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs mount /var/lib/clonefs /mnt/clonefs", "  clonefs mount /var/lib/clonefs /mnt/clonefs --foreground   # under systemd", "  clonefs mount /var/lib/clonefs /mnt/clonefs --port 7000 --json",
            "  clonefs mount /var/lib/clonefs /mnt/clonefs --listen 0.0.0.0:7443 --tls-cert cert.pem --tls-key key.pem"},
        description = {"Start the daemon of POOL: mount it at MOUNTPOINT and serve the control API.",
    "Without --foreground the daemon runs detached (output in POOL/daemon.log) and this command",
    "returns once the mount answers, printing the mount point."})
final class MountCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "POOL", description = "Pool directory.")
    Path poolDir;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing, empty directory.")
    Path mountpoint;

    @Option(names = "--foreground", description = "Run the daemon in this process until it is stopped.")
    boolean foreground;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "0",
            description = "Control API port on 127.0.0.1 (default: any free port).")
    int port;

    @Option(names = "--listen", paramLabel = "ADDR:PORT",
            description = {"Also serve the control API on ADDR:PORT (e.g. 0.0.0.0:7443); over TLS with --tls-cert",
                "and --tls-key, which any address but a loopback one requires. Clients use scoped tokens",
                "('clonefs token create') and CLONEFS_URL (docs/cli.md, \"Beyond loopback\")."})
    String listen;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain of --listen, the server's own certificate first.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "PEM private key of --tls-cert: unencrypted PKCS#8 (BEGIN PRIVATE KEY), RSA or EC.")
    Path tlsKey;

    @Option(names = "--no-allow-other", negatable = false,
            description = "Do not let other users use the mount (FUSE allow_other is on by default).")
    boolean noAllowOther;

    @Option(names = "--fuse-debug", description = "libfuse debug output (very verbose).")
    boolean fuseDebug;

    @Option(names = "--writeback-cache", negatable = true,
            description = {"The kernel caches writes and writes them back in 1 MiB requests; write-back errors",
                "come from fsync and close, as on ext4 (the default). --no-writeback-cache sends every",
                "write(2) to the daemon before it returns, at most 128 KiB each (docs/design.md, \"The mount\")."})
    Boolean writebackCache;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for a background daemon to be ready (default: 60).")
    int timeoutSeconds;

    /**
     * One line on stderr when the writeback cache was asked for and the mount runs write-through
     * instead (the libfuse layout check failed, fuse-fs/README.md): stdout stays the mount point.
     */
    private void warnIfWriteThrough(String cache) {
        if (cache != null && cache.startsWith("write-through (")) {
            spec.commandLine().getErr().println("cache: " + cache);
            spec.commandLine().getErr().flush();
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        Path p = poolDir.toAbsolutePath().normalize();
        Path mp = mountpoint.toAbsolutePath().normalize();
        PgPlugin.checkEnvironment(); // a malformed CLONEFS_PG_PORTS fails here, not in the background daemon
        if (port < 0 || port > 65535) {
            throw new CliException(ExitCodes.USAGE, "--port " + port + " is out of range");
        }
        // refused here, before anything starts: a non-loopback --listen without TLS, files that do not load
        ControlServer.Listen tls = ControlServer.listen(listen, abs(tlsCert), abs(tlsKey));
        if (foreground) {
            Logging.level("io.clonefs", top.verbose() ? "DEBUG" : top.quiet() ? "ERROR" : "INFO");
            // blocks of imported snapshots are read from the pool's remotes (looked up at fetch time);
            // a branch of REMOTE:VOLUME@SNAP imports through the remotes plugin
            RemotePlugin remotes = new RemotePlugin();
            Daemon d = Daemon.start(p, mp, new Daemon.Options(port, !noAllowOther, fuseDebug,
                    writebackCache != null ? writebackCache : MountOptions.writebackDefault(), tls),
                    RemoteClient.engineOptions(p),
                    List.of(new UiPlugin(), new WebhookPlugin(), remotes, PgPlugin.fromEnvironment(remotes::importVolume)));
            Runtime.getRuntime().addShutdownHook(new Thread(d::close, "clonefs-sigterm"));
            out().println("mounted " + p + " at " + mp + " (daemon pid " + d.info().pid() + ", control port "
                    + d.info().port() + (d.info().listen() == null ? "" : ", also " + d.info().listen()) + ", cache: "
                    + d.info().cache() + ")");
            out().flush();
            d.awaitStop();
            return ExitCodes.OK;
        }
        Daemon.preflight(p, mp);
        List<String> args = new ArrayList<>(List.of("mount", p.toString(), mp.toString(), "--foreground",
                "--port", Integer.toString(port)));
        if (listen != null) {
            args.addAll(List.of("--listen", listen));
        }
        if (tlsCert != null) {
            args.addAll(List.of("--tls-cert", abs(tlsCert).toString(), "--tls-key", abs(tlsKey).toString()));
        }
        if (noAllowOther) {
            args.add("--no-allow-other");
        }
        if (fuseDebug) {
            args.add("--fuse-debug");
        }
        if (writebackCache != null) {
            args.add(writebackCache ? "--writeback-cache" : "--no-writeback-cache");
        }
        if (top.verbose()) {
            args.add("-v");
        } else if (top.quiet()) {
            args.add("-q");
        }
        DaemonInfo info = DaemonLauncher.start(p, mp, Main.class.getName(), args, Duration.ofSeconds(timeoutSeconds));
        if (json()) {
            Output.json(out(), info);
        } else {
            out().println(mp);
            warnIfWriteThrough(info.cache());
        }
        return ExitCodes.OK;
    }

    private static Path abs(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize();
    }
}
