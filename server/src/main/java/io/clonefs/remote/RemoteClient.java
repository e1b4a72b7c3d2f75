package io.clonefs.remote;

import io.clonefs.api.HttpJsonClient;
import io.clonefs.api.PushResult;
import io.clonefs.api.RemoteApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.daemon.DaemonClient;
import io.clonefs.engine.Engine;
import io.clonefs.engine.EngineOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * How a CLI command reaches the remote operations of a pool: the daemon's routes when one runs,
 * else a {@link RemoteService} over the pool opened in this process (with the pool's fetcher).
 */
public interface RemoteClient extends AutoCloseable {
    PushResult push(String snapshot, String remote, Consumer<RemoteApi.PushView> progress);

    RemoteApi.RemoteCloned cloneRemote(String remote, String source, String name);

    RemoteApi.RemoteImported importRemote(String remote, String source);

    RemoteApi.Cache cache();

    RemoteApi.Evicted evict(long keepBytes);

    @Override
    void close();

    /** The pool's engine options: the fetcher reads {@code POOL/remotes} at fetch time. */
    static EngineOptions engineOptions(Path pool) {
        return EngineOptions.defaults().withRemoteFetcher(new S3Fetcher(pool));
    }

    static RemoteClient connect(Path pool) {
        Optional<DaemonClient> d = DaemonClient.find(pool);
        if (d.isPresent()) {
            return new Http(d.get().http());
        }
        if (!Files.isDirectory(pool)) {
            throw new ClonefsException.NotFound("no clonefs pool at " + pool
                    + " (use --pool DIR or CLONEFS_POOL, or create one with 'clonefs init " + pool + "')");
        }
        return new Local(Engine.open(pool, engineOptions(pool)), pool);
    }

    /** In-process: the CLI owns the engine. Progress is reported every second from a watcher thread. */
    final class Local implements RemoteClient {
        private final Engine engine;
        private final RemoteService service;

        Local(Engine engine, Path pool) {
            this.engine = engine;
            this.service = new RemoteService(engine, pool);
        }

        @Override
        public PushResult push(String snapshot, String remote, Consumer<RemoteApi.PushView> progress) {
            AtomicReference<PushProgress> cur = new AtomicReference<>();
            Thread watcher = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                    PushProgress p = cur.get();
                    if (p != null) {
                        progress.accept(p.view());
                    }
                }
            }, "clonefs-push-progress");
            watcher.setDaemon(true);
            watcher.start();
            try {
                return service.push(snapshot, remote, cur::set);
            } finally {
                watcher.interrupt();
            }
        }

        @Override
        public RemoteApi.RemoteCloned cloneRemote(String remote, String source, String name) {
            return service.cloneRemote(remote, source, name);
        }

        @Override
        public RemoteApi.RemoteImported importRemote(String remote, String source) {
            return service.importRemote(remote, source);
        }

        @Override
        public RemoteApi.Cache cache() {
            return service.cache();
        }

        @Override
        public RemoteApi.Evicted evict(long keepBytes) {
            return service.evict(keepBytes);
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    /** Through the daemon's control API; a push is polled for progress every second. */
    final class Http implements RemoteClient {
        private static final Duration LONG = Duration.ofDays(1);
        private static final Duration SHORT = Duration.ofSeconds(30);
        private final HttpJsonClient http;

        Http(HttpJsonClient http) {
            this.http = http;
        }

        @Override
        public PushResult push(String snapshot, String remote, Consumer<RemoteApi.PushView> progress) {
            var done = CompletableFuture.supplyAsync(() ->
                    http.call("POST", "remotes/" + remote + "/push", new RemoteApi.Push(snapshot), PushResult.class, LONG));
            while (true) {
                try {
                    return done.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    try {
                        RemoteApi.Pushes ps = http.call("GET", "remotes/" + remote + "/push", null, RemoteApi.Pushes.class, SHORT);
                        ps.pushes().stream().filter(v -> v.snapshot().equals(snapshot)).findFirst().ifPresent(progress);
                    } catch (RuntimeException ignored) {
                        // progress is best effort
                    }
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw HttpJsonClient.interrupted(e);
                }
            }
        }

        @Override
        public RemoteApi.RemoteCloned cloneRemote(String remote, String source, String name) {
            return http.call("POST", "remotes/" + remote + "/clone", new RemoteApi.Clone(source, name), RemoteApi.RemoteCloned.class, LONG);
        }

        @Override
        public RemoteApi.RemoteImported importRemote(String remote, String source) {
            return http.call("POST", "remotes/" + remote + "/import", new RemoteApi.Import(source), RemoteApi.RemoteImported.class, LONG);
        }

        @Override
        public RemoteApi.Cache cache() {
            return http.call("GET", "cache", null, RemoteApi.Cache.class, SHORT);
        }

        @Override
        public RemoteApi.Evicted evict(long keepBytes) {
            return http.call("POST", "cache/evict", new RemoteApi.Evict(keepBytes), RemoteApi.Evicted.class, LONG);
        }

        @Override
        public void close() {
            // nothing held
        }
    }
}
