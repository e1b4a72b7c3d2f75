package io.clonefs.engine;

import io.clonefs.base.BlockId;
import io.clonefs.block.RemoteRef;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One item of a snapshot's tree, decoded: what {@link Engine#exportSnapshot} hands out and
 * {@link Engine#importSnapshot} takes back, so that nothing outside the engine reads the pool's
 * key layout. A snapshot is its {@link Super}, its {@link Inode}s, {@link DirEntry}s and
 * {@link Extent}s, and the {@link Orphan} marks of files that were unlinked while open. Export
 * gives them in tree key order (per inode: the inode, then its entries, then its extents).
 *
 * <p>Extents come in two kinds: an export gives {@link Extent}s (a block of this pool, read it with
 * {@link Engine#readBlock}); an import takes {@link RemoteExtent}s instead (where the block lives
 * in an object store).
 *
 * <p>Thread rules: immutable values. The arrays a record holds ({@code target}, {@code name}) are
 * not copied: treat them as read-only.
 */
public sealed interface SnapshotItem permits SnapshotItem.Super, SnapshotItem.Inode, SnapshotItem.DirEntry,
        SnapshotItem.Extent, SnapshotItem.RemoteExtent, SnapshotItem.Orphan {

    /** Receives the items of an export; returns false to stop it. */
    @FunctionalInterface
    interface Visitor {
        boolean visit(SnapshotItem item);
    }

    /**
     * The tree's counters, exactly one per snapshot.
     *
     * @param nextInode        the inode number the next new file gets
     * @param referencedBlocks blocks the tree's extents reference
     */
    record Super(long nextInode, long referencedBlocks) implements SnapshotItem {
    }

    /**
     * One file, directory or symlink. Times are nanoseconds since the epoch.
     *
     * @param mode   full {@code st_mode}: type bits and permission bits
     * @param blocks data blocks the file references (holes excluded)
     * @param parent a directory's parent inode number; 0 for other files
     * @param target a symlink's target (its bytes); empty for other files
     */
    record Inode(InodeId ino, int mode, int uid, int gid, int nlink, long size, long blocks, long atimeNs, long mtimeNs,
                 long ctimeNs, long parent, byte[] target) implements SnapshotItem {
        @Override
        public boolean equals(Object o) {
            return o instanceof Inode i && ino.equals(i.ino) && mode == i.mode && uid == i.uid && gid == i.gid
                    && nlink == i.nlink && size == i.size && blocks == i.blocks && atimeNs == i.atimeNs
                    && mtimeNs == i.mtimeNs && ctimeNs == i.ctimeNs && parent == i.parent && Arrays.equals(target, i.target);
        }

        @Override
        public int hashCode() {
            return ino.hashCode() * 31 + Arrays.hashCode(target);
        }

        @Override
        public String toString() {
            return "Inode[" + ino + ", mode=0" + Integer.toOctalString(mode) + ", size=" + size + ", nlink=" + nlink + "]";
        }
    }

    /**
     * One name in a directory.
     *
     * @param name  the name's bytes (UTF-8, one path component)
     * @param child the inode the name links to
     * @param type  the child's type, as its inode says
     */
    record DirEntry(InodeId dir, byte[] name, InodeId child, FileType type) implements SnapshotItem {
        @Override
        public boolean equals(Object o) {
            return o instanceof DirEntry d && dir.equals(d.dir) && Arrays.equals(name, d.name) && child.equals(d.child)
                    && type == d.type;
        }

        @Override
        public int hashCode() {
            return (dir.hashCode() * 31 + Arrays.hashCode(name)) * 31 + child.hashCode();
        }

        @Override
        public String toString() {
            return "DirEntry[" + dir + ", " + new String(name, StandardCharsets.UTF_8) + " -> " + child
                    + ", " + type + "]";
        }
    }

    /** Block number {@code index} of file {@code ino} (its bytes {@code index * blockSize} on) is {@code block} of this pool. */
    record Extent(InodeId ino, long index, BlockId block) implements SnapshotItem {
    }

    /**
     * Block number {@code index} of file {@code ino} lives in an object store at {@code ref}, whose
     * {@link RemoteRef#pack()} indexes the pack list given to {@link Engine#importSnapshot}.
     */
    record RemoteExtent(InodeId ino, long index, RemoteRef ref) implements SnapshotItem {
        @Override
        public boolean equals(Object o) {
            return o instanceof RemoteExtent r && ino.equals(r.ino) && index == r.index && ref.pack() == r.ref.pack()
                    && ref.slot() == r.ref.slot() && Arrays.equals(ref.sha256(), r.ref.sha256());
        }

        @Override
        public int hashCode() {
            return (ino.hashCode() * 31 + Long.hashCode(index)) * 31 + Arrays.hashCode(ref.sha256());
        }

        @Override
        public String toString() {
            return "RemoteExtent[" + ino + ", index=" + index + ", pack=" + ref.pack() + ", slot=" + ref.slot() + ", sha256="
                    + HexFormat.of().formatHex(ref.sha256()) + "]";
        }
    }

    /** File {@code ino} has no links left but was open when the tree was written: purged when a volume opens. */
    record Orphan(InodeId ino) implements SnapshotItem {
    }
}
