package io.clonefs.engine;

import io.clonefs.block.BlockStore;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.MetaStore;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What a {@link Volume} needs of the pool it lives in, so that the filesystem core does not reach
 * into {@link Engine}: the metadata store and its tree, the block store, the snapshot barrier (held
 * for reading by every mutation), the per-inode locks, and the hook that wakes the group committer
 * after a change.
 */
record VolumeContext(MetaStore meta, CowTree tree, BlockStore blocks, ReentrantReadWriteLock barrier,
        InodeLocks inodeLocks, Runnable afterChange) {
}
