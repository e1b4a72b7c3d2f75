package io.clonefs.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.Command;
import io.clonefs.pg.process.Postgres;
import io.clonefs.pg.process.Postgres.StopMode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bringing a database in as a new source: {@code initdb} into a volume, or {@code pg_basebackup}
 * from a running server (a copy of its own, or with {@code follow} a streaming standby of it),
 * then the first start. A failure removes the volume it created (or the data directory it made).
 * Keeps the latest progress line of each import for the API.
 *
 * <p>Thread-safe: each operation holds the new server's name lock and its name reservation.
 */
final class PgImports {
    private static final Logger LOG = LoggerFactory.getLogger(PgImports.class);
    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration IMPORT_TIMEOUT = Duration.ofDays(1);

    private final PgRegistry registry;
    private final PgVolumes volumes;
    private final PgDataDirs dataDirs;
    private final PgTools tools;
    private final PgProcesses processes;
    private final PgServers servers;
    private final ConcurrentHashMap<String, PgApi.Progress> progress = new ConcurrentHashMap<>();

    PgImports(PgRegistry registry, PgVolumes volumes, PgDataDirs dataDirs, PgTools tools, PgProcesses processes,
              PgServers servers) {
        this.registry = registry;
        this.volumes = volumes;
        this.dataDirs = dataDirs;
        this.tools = tools;
        this.processes = processes;
        this.servers = servers;
    }

    /** {@code initdb --data-checksums} in {@code MOUNTPOINT/<volume>/data}, then start it. */
    PgApi.Server init(String volume, Integer port) {
        return registry.withName(volume, () -> {
            int p = registry.reserveNew(volume, port, true);
            boolean created = false;
            boolean madeData = false;
            PgRecord rec = null;
            try {
                created = volumes.ensure(volume);
                Path data = volumes.root(volume).resolve("data");
                madeData = dataDirs.makeDataDir(volume, data);
                try {
                    Postgres.initdb(tools, data, INITDB_TIMEOUT, "--data-checksums");
                } catch (Postgres.Failed e) {
                    throw new PgException.ToolFailed("initdb on volume '" + volume + "' failed: " + PgTools.tail(e.result()));
                }
                rec = newSource(volume, p, false, null);
                processes.start(rec, false);
                processes.awaitQuery(rec);
                registry.put(rec);
                LOG.info("PostgreSQL initialised on volume {}, port {}", volume, p);
                return servers.view(rec);
            } catch (RuntimeException e) {
                if (rec != null) {
                    processes.stopQuietly(rec, StopMode.IMMEDIATE);
                }
                undoVolume(volume, created, madeData ? volumes.root(volume).resolve("data") : null, e);
                throw e;
            } finally {
                registry.release(volume);
            }
        });
    }

    /** {@code pg_basebackup} from a running server into {@code MOUNTPOINT/<volume>/data}, then start the copy. */
    PgApi.Server importFrom(String volume, String conninfo, boolean follow, Integer port, Consumer<String> progress) {
        if (conninfo == null || conninfo.isBlank()) {
            throw new ClonefsException.InvalidArgument("import needs the connection string of the server to copy (--from)");
        }
        return registry.withName(volume, () -> {
            int p = registry.reserveNew(volume, port, true);
            boolean created = false;
            boolean madeData = false;
            PgRecord rec = null;
            Consumer<String> sink = line -> {
                this.progress.put(volume, new PgApi.Progress(volume, line, false));
                if (progress != null) {
                    progress.accept(line);
                }
            };
            try {
                created = volumes.ensure(volume);
                Path data = volumes.root(volume).resolve("data");
                madeData = dataDirs.makeDataDir(volume, data);
                sink.accept("pg_basebackup from " + redact(conninfo) + " into volume " + volume);
                List<String> args = new ArrayList<>(List.of("-D", data.toString(), "-d", conninfo, "-X", "stream",
                        "-c", "fast", "-P", "-v"));
                if (follow) {
                    args.add("-R");
                }
                Command.Result r = tools.run(IMPORT_TIMEOUT, "pg_basebackup", args, sink);
                if (!r.ok()) {
                    throw new PgException.ToolFailed("pg_basebackup from " + redact(conninfo) + " failed: " + PgTools.tail(r));
                }
                dataDirs.completeConfig(data);
                rec = newSource(volume, p, follow, redact(conninfo));
                sink.accept("starting the copy" + (follow ? " as a standby" : ""));
                processes.start(rec, false);
                processes.awaitQuery(rec);
                registry.put(rec);
                sink.accept("imported: " + Postgres.uri(p));
                LOG.info("imported {} into volume {} (port {}, {})", redact(conninfo), volume, p,
                        follow ? "following" : "standalone");
                return servers.view(rec);
            } catch (RuntimeException e) {
                if (rec != null) {
                    processes.stopQuietly(rec, StopMode.IMMEDIATE);
                }
                undoVolume(volume, created, madeData ? volumes.root(volume).resolve("data") : null, e);
                sink.accept("import failed: " + e.getMessage());
                throw e;
            } finally {
                PgApi.Progress last = this.progress.get(volume);
                this.progress.put(volume, new PgApi.Progress(volume, last == null ? "" : last.line(), true));
                registry.release(volume);
            }
        });
    }

    /** The latest progress line of an import into {@code volume}, if one ran since the daemon started. */
    Optional<PgApi.Progress> progress(String volume) {
        return Optional.ofNullable(progress.get(volume));
    }

    private static PgRecord newSource(String volume, int port, boolean standby, String primary) {
        return new PgRecord(volume, PgRecord.SOURCE, "data", null, null, false, false, port, Instant.now().toString(), null,
                false, true, standby, primary, null, false, null, null, null, null);
    }

    /** Undo of init/import: the volume if we created it, else the data directory we made. */
    private void undoVolume(String volume, boolean created, Path madeData, RuntimeException failure) {
        if (created) {
            volumes.destroyQuietly(volume, failure);
        } else if (madeData != null) {
            try {
                PgDataDirs.deleteTree(madeData);
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
        }
        processes.removeFiles(volume);
    }

    /** A conninfo (key=value or URI) with any password removed. */
    static String redact(String conninfo) {
        return conninfo.replaceAll("(?i)(password\\s*=\\s*)('([^'\\\\]|\\\\.)*'|\\S+)", "$1***")
                .replaceAll("(postgres(?:ql)?://[^:/@\\s]+):[^@/\\s]*@", "$1:***@");
    }
}
