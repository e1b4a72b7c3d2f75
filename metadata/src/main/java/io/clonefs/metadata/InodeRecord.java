package io.clonefs.metadata;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The value of an inode item. A mutable scratch object: decode, change, encode.
 * Layout: mode u32, uid u32, gid u32, nlink u32, size u64, blocks u64, atime u64, mtime u64,
 * ctime u64 (nanoseconds), parent u64 (directories), then the target of a symlink or the number
 * of a character or block device (u64, {@code st_rdev}); nothing for other types. Pools written
 * before devices existed have no such tails: the layout is unchanged.
 */
public final class InodeRecord {
    public int mode;
    public int uid;
    public int gid;
    public int nlink;
    public long size;
    public long blocks;
    public long atimeNs;
    public long mtimeNs;
    public long ctimeNs;
    public long parent;
    public byte[] target = new byte[0];

    public byte[] encode() {
        return ByteBuffer.allocate(64 + target.length).putInt(mode).putInt(uid).putInt(gid).putInt(nlink)
                .putLong(size).putLong(blocks).putLong(atimeNs).putLong(mtimeNs).putLong(ctimeNs).putLong(parent)
                .put(target).array();
    }

    public static InodeRecord decode(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        InodeRecord r = new InodeRecord();
        r.mode = bb.getInt();
        r.uid = bb.getInt();
        r.gid = bb.getInt();
        r.nlink = bb.getInt();
        r.size = bb.getLong();
        r.blocks = bb.getLong();
        r.atimeNs = bb.getLong();
        r.mtimeNs = bb.getLong();
        r.ctimeNs = bb.getLong();
        r.parent = bb.getLong();
        r.target = new byte[bb.remaining()];
        bb.get(r.target);
        return r;
    }

    public String targetString() {
        return new String(target, StandardCharsets.UTF_8);
    }
}
