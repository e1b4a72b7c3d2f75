package io.clonefs.cli.common;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.daemon.DaemonClient;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.daemon.DaemonInfo;
import io.clonefs.daemon.EngineService;
import io.clonefs.daemon.PoolService;
import io.clonefs.engine.Engine;
import io.clonefs.remote.RemoteClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a command reaches a pool: through its daemon when one runs (published in
 * {@code POOL/daemon.json} and answering), else by opening the pool in this process, which the
 * engine refuses while another process holds it.
 */
public final class Pools {
    public static final Path DEFAULT_POOL = Path.of("/var/lib/clonefs");

    private Pools() {
    }

    /** {@code --pool}, else {@code $CLONEFS_POOL}, else {@code /var/lib/clonefs}. */
    public static Path resolve(Path option) {
        if (option != null) {
            return option.toAbsolutePath().normalize();
        }
        String env = System.getenv("CLONEFS_POOL");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath().normalize();
        }
        return DEFAULT_POOL;
    }

    public static PoolService connect(Path pool) {
        Optional<DaemonClient> daemon = DaemonClient.find(pool);
        if (daemon.isPresent()) {
            return daemon.get();
        }
        Optional<DaemonInfo> running = DaemonFiles.readInfo(pool).filter(i -> DaemonClient.alive(i.pid()));
        if (running.isPresent() && !Files.isReadable(DaemonFiles.token(pool))) {
            throw new CliException(ErrorKind.ExitCode.GENERAL, "pool " + pool + " is served by daemon pid " + running.get().pid()
                    + ", whose token " + DaemonFiles.token(pool) + " this user cannot read (run as its owner)");
        }
        if (!Files.isDirectory(pool)) {
            throw new ClonefsException.NotFound("no clonefs pool at " + pool
                    + " (use --pool DIR or CLONEFS_POOL, or create one with 'clonefs init " + pool + "')");
        }
        try {
            return new EngineService(Engine.open(pool, RemoteClient.engineOptions(pool)), () -> { }, true);
        } catch (ClonefsException e) {
            if (running.isPresent() && e instanceof ClonefsException.Conflict) {
                throw new ClonefsException.Conflict("pool " + pool + " is held by daemon pid " + running.get().pid()
                        + ", which does not answer (see " + DaemonFiles.log(pool) + ")");
            }
            throw e;
        }
    }
}
