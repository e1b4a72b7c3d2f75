package io.clonefs.engine;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Per-inode read-write locks, striped: reads of a file share, writes and truncates of a file
 * exclude each other and reads. Two inodes may share a stripe; that only costs concurrency.
 */
final class InodeLocks {
    private static final int STRIPES = 1024;
    private final ReentrantReadWriteLock[] locks = new ReentrantReadWriteLock[STRIPES];

    InodeLocks() {
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantReadWriteLock();
        }
    }

    ReentrantReadWriteLock of(long datasetId, long ino) {
        long h = datasetId * 0x9E3779B97F4A7C15L + ino * 0xC2B2AE3D27D4EB4FL;
        return locks[(int) ((h ^ (h >>> 31)) & (STRIPES - 1))];
    }
}
