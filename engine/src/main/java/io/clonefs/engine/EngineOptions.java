package io.clonefs.engine;

import io.clonefs.block.BlockStore;
import io.clonefs.block.RemoteFetcher;
import java.util.function.UnaryOperator;

/**
 * Tuning of an open pool.
 *
 * @param commitIntervalMillis group-commit period for dirty metadata; 0 disables the timer (commits
 *                             then happen only on fsync, sync, dataset commands and memory pressure)
 * @param maxDirtyNodes        commit early when this many tree nodes are dirty
 * @param nodeCacheSize        clean tree nodes kept decoded in memory
 * @param reclaim              run the background reclaimer
 * @param blockStoreDecorator  wraps the pool's block store (identity by default; tests use it to
 *                             inject I/O faults)
 * @param remoteFetcher        reads blocks of imported snapshots from their object store
 *                             ({@link RemoteFetcher#NONE} by default)
 */
public record EngineOptions(long commitIntervalMillis, int maxDirtyNodes, int nodeCacheSize, boolean reclaim,
                            UnaryOperator<BlockStore> blockStoreDecorator, RemoteFetcher remoteFetcher) {
    public static EngineOptions defaults() {
        return new EngineOptions(1000, 20_000, 50_000, true, UnaryOperator.identity(), RemoteFetcher.NONE);
    }

    public EngineOptions withCommitIntervalMillis(long millis) {
        return new EngineOptions(millis, maxDirtyNodes, nodeCacheSize, reclaim, blockStoreDecorator, remoteFetcher);
    }

    public EngineOptions withMaxDirtyNodes(int n) {
        return new EngineOptions(commitIntervalMillis, n, nodeCacheSize, reclaim, blockStoreDecorator, remoteFetcher);
    }

    public EngineOptions withReclaim(boolean on) {
        return new EngineOptions(commitIntervalMillis, maxDirtyNodes, nodeCacheSize, on, blockStoreDecorator, remoteFetcher);
    }

    public EngineOptions withBlockStoreDecorator(UnaryOperator<BlockStore> decorator) {
        return new EngineOptions(commitIntervalMillis, maxDirtyNodes, nodeCacheSize, reclaim, decorator, remoteFetcher);
    }

    public EngineOptions withRemoteFetcher(RemoteFetcher fetcher) {
        return new EngineOptions(commitIntervalMillis, maxDirtyNodes, nodeCacheSize, reclaim, blockStoreDecorator, fetcher);
    }
}
