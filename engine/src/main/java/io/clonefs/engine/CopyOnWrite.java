package io.clonefs.engine;

import io.clonefs.base.BlockId;
import io.clonefs.block.BlockStore;
import io.clonefs.engine.WritePlan.CopyAhead;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;

/**
 * Where copy-on-write is decided: for each block a write touches, whether it is written in place
 * (this tree alone owns it and the block store can overwrite it) or into a new block that then
 * replaces the extent; and the copy-ahead of sequential writers (see {@link #planCopyAhead}),
 * which remembers per inode where its latest copy ended. Also gives back the new blocks of a
 * write that failed before its extents were recorded.
 *
 * <p>Thread rules: {@link #chooseBlocks}, {@link #abandon} and {@link #forget} are called holding
 * the {@link MetaStore} monitor, which also guards the per-inode copy ends; {@link #planCopyAhead}
 * takes it itself; {@link #copyAhead} does block I/O and must be called without it. Callers hold
 * the snapshot barrier and the inode's write lock.
 */
final class CopyOnWrite {
    /** How far a sequential writer's copy-on-write copies ahead. */
    private static final int COPY_AHEAD_BYTES = 256 << 10;

    private final MetaStore meta;
    private final CowTree tree;
    private final BlockStore blocks;
    private final int bs;
    private final DatasetRoot root;
    private final InodeTable inodes;
    /** Per inode, one past the last block its latest copy-on-write copied. */
    private final HashMap<Long, Long> cowEnd = new HashMap<>();

    CopyOnWrite(VolumeContext pool, DatasetRoot root, InodeTable inodes) {
        this.meta = pool.meta();
        this.tree = pool.tree();
        this.blocks = pool.blocks();
        this.bs = meta.blockSize();
        this.root = root;
        this.inodes = inodes;
    }

    /**
     * Under the monitor: for each block of a write, the block to write into — the current one if
     * this tree alone owns it, else a new one ({@code fresh}) — and the current one ({@code old}, or -1).
     */
    void chooseBlocks(long ino, long firstIndex, long[] target, long[] old, boolean[] fresh) {
        int n = target.length;
        Arrays.fill(old, -1);
        // one walk over the run's extents (holes have none), each node's count looked up once;
        // target[i] is 1 where this tree alone owns the block
        Arrays.fill(target, 0);
        tree.probeRange(root.get(), Keys.extent(ino, firstIndex), Keys.extent(ino, firstIndex + n), (k, v, block, exclusive) -> {
            int i = (int) (Keys.extentIndex(k) - firstIndex);
            old[i] = block;
            target[i] = exclusive ? 1 : 0;
        });
        for (int i = 0; i < n; i++) {
            if (old[i] >= 0 && target[i] == 1 && blocks.writableInPlace(new BlockId(old[i]))) {
                target[i] = old[i];
            } else {
                target[i] = meta.allocateBlock().value();
                fresh[i] = true;
            }
        }
    }

    /**
     * Copy-ahead for sequential copy-on-write. Right after a snapshot every write to a shared block
     * moves it to a new block, so each {@code fdatasync} needs a metadata commit. A file written in
     * order (PostgreSQL's WAL) would pay one commit per block. When a write copies a shared block
     * and the file's previous copy ended within this write, the shared blocks that follow
     * (up to {@link #COPY_AHEAD_BYTES}, within the file, stopping at the first block that is not a
     * shared local block) are copied to new blocks in the same metadata change, so the writes that
     * follow land in place. The cost: up to that many bytes copied that the writer may never
     * overwrite. Returns the blocks to copy and their new blocks, allocated, not yet copied.
     */
    CopyAhead planCopyAhead(long ino, long firstIndex, long[] old, boolean[] fresh) {
        int n = fresh.length;
        boolean cow = fresh[n - 1] && old[n - 1] >= 0;
        long end = firstIndex + n;
        synchronized (meta) {
            if (!cow) {
                return CopyAhead.NONE;
            }
            Long prev = cowEnd.get(ino);
            if (cowEnd.size() > 10_000) {
                cowEnd.clear();
            }
            // sequential: this write reaches the first block the previous copy left shared
            if (prev == null || prev < firstIndex || prev >= end) {
                cowEnd.put(ino, end);
                return CopyAhead.NONE;
            }
            long lastIndex = (inodes.inode(ino).size - 1) / bs;
            int max = Math.max(1, COPY_AHEAD_BYTES / bs);
            long rootId = root.get();
            long[] from = new long[max];
            int k = 0;
            long stop = Math.min(end + max, lastIndex + 1);
            if (stop > end) {
                // shared local blocks from `end` on, up to the first hole or block that is not
                long[] found = new long[(int) (stop - end)];
                boolean[] shared = new boolean[found.length];
                Arrays.fill(found, -1);
                tree.probeRange(rootId, Keys.extent(ino, end), Keys.extent(ino, stop), (key, v, block, exclusive) -> {
                    int j = (int) (Keys.extentIndex(key) - end);
                    found[j] = block;
                    shared[j] = !exclusive;
                });
                while (k < found.length && found[k] >= 0 && shared[k] && blocks.writableInPlace(new BlockId(found[k]))) {
                    from[k] = found[k];
                    k++;
                }
            }
            long[] to = new long[k];
            for (int j = 0; j < k; j++) {
                to[j] = meta.allocateBlock().value();
            }
            cowEnd.put(ino, end + k);
            return new CopyAhead(Arrays.copyOf(from, k), to);
        }
    }

    /**
     * Copies the planned blocks and returns what was copied: {@code ahead}, or on a failure
     * {@link CopyAhead#NONE} after giving up its new blocks (nothing is lost: the extents still
     * point at the shared blocks).
     */
    CopyAhead copyAhead(CopyAhead ahead) {
        if (ahead.count() == 0) {
            return ahead;
        }
        try {
            ByteBuffer buf = ByteBuffer.allocate(bs);
            for (int j = 0; j < ahead.count(); j++) {
                buf.clear();
                blocks.read(new BlockId(ahead.from()[j]), 0, buf);
                buf.flip();
                blocks.write(new BlockId(ahead.to()[j]), 0, buf);
            }
            return ahead;
        } catch (RuntimeException e) {
            synchronized (meta) {
                abandon(ahead);
            }
            return CopyAhead.NONE;
        }
    }

    /** Under the monitor: gives back the new blocks of a plan whose block writes failed. */
    void abandon(WritePlan plan) {
        for (int j = 0; j < plan.blockCount(); j++) {
            if (plan.fresh()[j]) {
                meta.abandonBlock(new BlockId(plan.target()[j]));
            }
        }
        abandon(plan.ahead());
    }

    /** Under the monitor. */
    private void abandon(CopyAhead ahead) {
        for (long b : ahead.to()) {
            meta.abandonBlock(new BlockId(b));
        }
    }

    /** Under the monitor: the inode is gone. */
    void forget(long ino) {
        cowEnd.remove(ino);
    }
}
