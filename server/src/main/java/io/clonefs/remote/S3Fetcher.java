package io.clonefs.remote;

import io.clonefs.block.RemoteFetcher;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pool's {@link RemoteFetcher}: looks the remote up in {@code POOL/remotes} at fetch time (so
 * a remote added or changed while the daemon runs is used without a restart) and reads the range
 * with one ranged GET. One S3 client per remote configuration is kept.
 */
public final class S3Fetcher implements RemoteFetcher, AutoCloseable {
    private final Remotes remotes;
    private final Map<String, S3Store> stores = new ConcurrentHashMap<>();

    public S3Fetcher(Path pool) {
        this.remotes = new Remotes(pool);
    }

    @Override
    public byte[] fetch(String remote, String key, long offset, int length) {
        return store(remote).getRange(key, offset, length);
    }

    private S3Store store(String remote) {
        Remotes.Remote r = remotes.find(remote).orElseThrow(() -> new IllegalStateException("remote " + remote
                + " is not configured in this pool (add it with 'clonefs remote add " + remote + " ...')"));
        String id = r.config() + "|" + r.credentials().accessKey() + "|" + r.credentials().secretKey().hashCode();
        S3Store s = stores.get(id);
        if (s == null) {
            s = stores.computeIfAbsent(id, k -> new S3Store(r.config(), r.credentials()));
        }
        return s;
    }

    @Override
    public void close() {
        stores.values().forEach(S3Store::close);
        stores.clear();
    }
}
