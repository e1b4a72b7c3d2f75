package io.clonefs.engine;

/**
 * Space of the whole pool.
 *
 * @param usedBytes        bytes of blocks in use plus LMDB metadata
 * @param freeBytes        bytes a writer can still use: free blocks in the block files plus free
 *                         space of the filesystem holding the pool
 * @param blocksInUse      allocated data blocks
 * @param blocksFree       blocks in the block files that are free for reuse
 * @param metadataBytes    size of the LMDB environment file
 * @param reclaimBacklog   tree nodes still waiting for the background reclaimer
 */
public record SpaceInfo(int blockSize, long usedBytes, long freeBytes, long blocksInUse, long blocksFree,
                        long metadataBytes, long reclaimBacklog) {
}
