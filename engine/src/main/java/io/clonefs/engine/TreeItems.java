package io.clonefs.engine;

import io.clonefs.base.BlockId;
import io.clonefs.metadata.InodeRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.Schema;
import java.nio.ByteBuffer;

/**
 * Translation between the items of a volume's tree as stored (key and value bytes, laid out in
 * {@link Schema}) and {@link SnapshotItem}s. {@code key(decode(k, v))} and
 * {@code value(decode(k, v))} give back exactly {@code k} and {@code v}.
 *
 * <p>Thread rules: stateless.
 */
final class TreeItems {
    private TreeItems() {
    }

    /** The item stored under {@code key}; refuses keys of no known item type. */
    static SnapshotItem decode(byte[] key, byte[] value) {
        if (key.length < 9) {
            throw new IllegalStateException("tree key of " + key.length + " bytes");
        }
        ByteBuffer v = ByteBuffer.wrap(value);
        switch (Keys.type(key)) {
            case Keys.SUPER:
                return new SnapshotItem.Super(v.getLong(0), v.getLong(8));
            case Keys.INODE: {
                InodeRecord r = InodeRecord.decode(value);
                return new SnapshotItem.Inode(InodeId.of(Keys.ino(key)), r.mode, r.uid, r.gid, r.nlink, r.size, r.blocks,
                        r.atimeNs, r.mtimeNs, r.ctimeNs, r.parent, r.target);
            }
            case Keys.DIRENT:
                return new SnapshotItem.DirEntry(InodeId.of(Keys.ino(key)), Keys.direntName(key), InodeId.of(v.getLong(0)),
                        FileType.ofMode((value[8] & 0xff) << 12));
            case Keys.EXTENT:
                return new SnapshotItem.Extent(InodeId.of(Keys.ino(key)), Keys.extentIndex(key), new BlockId(v.getLong(0)));
            case Keys.ORPHAN:
                return new SnapshotItem.Orphan(InodeId.of(Keys.orphanIno(key)));
            default:
                throw new IllegalStateException("tree key of unknown type " + Keys.type(key));
        }
    }

    /** The key the item is stored under. */
    static byte[] key(SnapshotItem item) {
        if (item instanceof SnapshotItem.Super) {
            return Keys.superKey();
        } else if (item instanceof SnapshotItem.Inode i) {
            return Keys.inode(i.ino().value());
        } else if (item instanceof SnapshotItem.DirEntry d) {
            return Keys.dirent(d.dir().value(), d.name());
        } else if (item instanceof SnapshotItem.Extent e) {
            return Keys.extent(e.ino().value(), e.index());
        } else if (item instanceof SnapshotItem.RemoteExtent e) {
            return Keys.extent(e.ino().value(), e.index());
        } else if (item instanceof SnapshotItem.Orphan o) {
            return Keys.orphan(o.ino().value());
        }
        throw new IllegalArgumentException("not a tree item: " + item);
    }

    /**
     * The stored value of any item but a {@link SnapshotItem.RemoteExtent}, whose value is the
     * block it is given ({@link #extentValue}).
     */
    static byte[] value(SnapshotItem item) {
        if (item instanceof SnapshotItem.Super s) {
            return ByteBuffer.allocate(16).putLong(s.nextInode()).putLong(s.referencedBlocks()).array();
        } else if (item instanceof SnapshotItem.Inode i) {
            InodeRecord r = new InodeRecord();
            r.mode = i.mode();
            r.uid = i.uid();
            r.gid = i.gid();
            r.nlink = i.nlink();
            r.size = i.size();
            r.blocks = i.blocks();
            r.atimeNs = i.atimeNs();
            r.mtimeNs = i.mtimeNs();
            r.ctimeNs = i.ctimeNs();
            r.parent = i.parent();
            r.target = i.target();
            return r.encode();
        } else if (item instanceof SnapshotItem.DirEntry d) {
            return ByteBuffer.allocate(9).putLong(d.child().value()).put((byte) (d.type().bits() >>> 12)).array();
        } else if (item instanceof SnapshotItem.Extent e) {
            return extentValue(e.block().value());
        } else if (item instanceof SnapshotItem.Orphan) {
            return new byte[0];
        }
        throw new IllegalArgumentException("no stored value without a block: " + item);
    }

    /** The value of an extent item: the block it maps to. */
    static byte[] extentValue(long blockId) {
        return Schema.u64(blockId);
    }
}
