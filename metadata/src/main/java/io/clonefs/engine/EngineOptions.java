package io.clonefs.engine;

/**
 * Tuning of an open pool.
 *
 * @param commitIntervalMillis group-commit period for dirty metadata; 0 disables the timer (commits
 *                             then happen only on fsync, sync, dataset commands and memory pressure)
 * @param maxDirtyNodes        commit early when this many tree nodes are dirty
 * @param nodeCacheSize        clean tree nodes kept decoded in memory
 * @param reclaim              run the background reclaimer
 */
public record EngineOptions(long commitIntervalMillis, int maxDirtyNodes, int nodeCacheSize, boolean reclaim) {
    public static EngineOptions defaults() {
        return new EngineOptions(1000, 20_000, 50_000, true);
    }

    public EngineOptions withCommitIntervalMillis(long millis) {
        return new EngineOptions(millis, maxDirtyNodes, nodeCacheSize, reclaim);
    }

    public EngineOptions withMaxDirtyNodes(int n) {
        return new EngineOptions(commitIntervalMillis, n, nodeCacheSize, reclaim);
    }

    public EngineOptions withReclaim(boolean on) {
        return new EngineOptions(commitIntervalMillis, maxDirtyNodes, nodeCacheSize, on);
    }
}
