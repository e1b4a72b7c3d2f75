package io.clonefs.engine;

import io.clonefs.block.BlockStore;
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
 */
public record EngineOptions(long commitIntervalMillis, int maxDirtyNodes, int nodeCacheSize, boolean reclaim,
                            UnaryOperator<BlockStore> blockStoreDecorator) {
    public static EngineOptions defaults() {
        return new EngineOptions(1000, 20_000, 50_000, true, UnaryOperator.identity());
    }

    public EngineOptions withCommitIntervalMillis(long millis) {
        return new EngineOptions(millis, maxDirtyNodes, nodeCacheSize, reclaim, blockStoreDecorator);
    }

    public EngineOptions withMaxDirtyNodes(int n) {
        return new EngineOptions(commitIntervalMillis, n, nodeCacheSize, reclaim, blockStoreDecorator);
    }

    public EngineOptions withReclaim(boolean on) {
        return new EngineOptions(commitIntervalMillis, maxDirtyNodes, nodeCacheSize, on, blockStoreDecorator);
    }

    public EngineOptions withBlockStoreDecorator(UnaryOperator<BlockStore> decorator) {
        return new EngineOptions(commitIntervalMillis, maxDirtyNodes, nodeCacheSize, reclaim, decorator);
    }
}
