package io.clonefs.remote;

import io.clonefs.base.ClonefsException;
import io.clonefs.block.RemoteRef;
import io.clonefs.engine.FileType;
import io.clonefs.engine.InodeId;
import io.clonefs.engine.SnapshotItem;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A snapshot's items ({@link SnapshotItem}s, extents as {@link SnapshotItem.RemoteExtent}s) as
 * stored in {@code P/listings/<sha256>} objects: gzip'd records, in the order the engine exported
 * them, all big-endian:
 * <pre>
 * u16 keyLen, key[keyLen],
 *   then for an extent (type 3): u32 packIndex, u32 slot, sha256[32]
 *   else:                        u32 valueLen, value[valueLen]
 * </pre>
 * with these keys and values (manifest format {@value Manifest#FORMAT}):
 * <table>
 * <caption>listing records</caption>
 * <tr><th>item</th><th>key</th><th>value</th></tr>
 * <tr><td>super</td><td>{@code [0:u64][0:u8]}</td><td>u64 next inode, u64 referenced blocks</td></tr>
 * <tr><td>inode</td><td>{@code [ino:u64][1:u8]}</td><td>u32 mode, uid, gid, nlink; u64 size, blocks,
 *     atime, mtime, ctime (ns), parent; then a symlink's target bytes</td></tr>
 * <tr><td>directory entry</td><td>{@code [dir:u64][2:u8][name bytes]}</td><td>u64 child inode,
 *     u8 file type ({@code st_mode >> 12} of its type bits)</td></tr>
 * <tr><td>extent</td><td>{@code [ino:u64][3:u8][block index:u64]}</td><td>(the remote place above)</td></tr>
 * <tr><td>orphan</td><td>{@code [0:u64][4:u8][ino:u64]}</td><td>empty</td></tr>
 * </table>
 * This is the remote's own format, defined here from the items' fields: it was chosen equal to the
 * pool's tree layout of the time, but does not follow it. {@code packIndex} indexes the
 * manifest's pack list. A snapshot's listing is split into objects of at most
 * {@link #MAX_UNCOMPRESSED} bytes before compression, each record in one object.
 */
public final class Listing {
    public static final int MAX_UNCOMPRESSED = 8 << 20;
    private static final byte SUPER = 0;
    private static final byte INODE = 1;
    private static final byte DIRENT = 2;
    private static final byte EXTENT = 3;
    private static final byte ORPHAN = 4;
    private static final int INODE_FIXED = 64;

    private Listing() {
    }

    /** Collects records and hands each full object (gzip'd) to {@code sink}. */
    public static final class Writer {
        private final Consumer<byte[]> sink;
        private ByteArrayOutputStream buf = new ByteArrayOutputStream(1 << 20);
        private long items;

        public Writer(Consumer<byte[]> sink) {
            this.sink = sink;
        }

        /**
         * Adds one item. An extent must be a {@link SnapshotItem.RemoteExtent} (its place on the
         * remote): a local {@link SnapshotItem.Extent} is refused.
         */
        public void item(SnapshotItem item) {
            byte[] record = encode(item);
            ensure(record.length);
            buf.writeBytes(record);
            items++;
        }

        private void ensure(int n) {
            if (n > MAX_UNCOMPRESSED) {
                throw new IllegalArgumentException("a tree item of " + n + " bytes does not fit a listing object");
            }
            if (buf.size() + n > MAX_UNCOMPRESSED) {
                flush();
            }
        }

        /** Emits what is collected (if anything) as one object. */
        public void flush() {
            if (buf.size() == 0) {
                return;
            }
            sink.accept(gzip(buf.toByteArray()));
            buf = new ByteArrayOutputStream(1 << 20);
        }

        public long items() {
            return items;
        }
    }

    /** One record: key, then the extent's place or the value (see the class comment). */
    static byte[] encode(SnapshotItem item) {
        if (item instanceof SnapshotItem.RemoteExtent e) {
            RemoteRef ref = e.ref();
            return ByteBuffer.allocate(2 + 17 + 4 + 4 + 32).putShort((short) 17)
                    .putLong(e.ino().value()).put(EXTENT).putLong(e.index())
                    .putInt(ref.pack()).putInt(ref.slot()).put(ref.sha256()).array();
        }
        if (item instanceof SnapshotItem.Extent) {
            throw new IllegalArgumentException("an extent needs its remote place");
        }
        byte[] key;
        byte[] value;
        if (item instanceof SnapshotItem.Super s) {
            key = ByteBuffer.allocate(9).putLong(0).put(SUPER).array();
            value = ByteBuffer.allocate(16).putLong(s.nextInode()).putLong(s.referencedBlocks()).array();
        } else if (item instanceof SnapshotItem.Inode i) {
            key = ByteBuffer.allocate(9).putLong(i.ino().value()).put(INODE).array();
            value = ByteBuffer.allocate(INODE_FIXED + i.target().length).putInt(i.mode()).putInt(i.uid()).putInt(i.gid())
                    .putInt(i.nlink()).putLong(i.size()).putLong(i.blocks()).putLong(i.atimeNs()).putLong(i.mtimeNs())
                    .putLong(i.ctimeNs()).putLong(i.parent()).put(i.target()).array();
        } else if (item instanceof SnapshotItem.DirEntry d) {
            key = ByteBuffer.allocate(9 + d.name().length).putLong(d.dir().value()).put(DIRENT).put(d.name()).array();
            value = ByteBuffer.allocate(9).putLong(d.child().value()).put((byte) (d.type().bits() >>> 12)).array();
        } else if (item instanceof SnapshotItem.Orphan o) {
            key = ByteBuffer.allocate(17).putLong(0).put(ORPHAN).putLong(o.ino().value()).array();
            value = new byte[0];
        } else {
            throw new IllegalArgumentException("not a listing item: " + item);
        }
        if (key.length > 0xffff) {
            throw new IllegalArgumentException("a key of " + key.length + " bytes does not fit a listing record");
        }
        return ByteBuffer.allocate(2 + key.length + 4 + value.length).putShort((short) key.length).put(key)
                .putInt(value.length).put(value).array();
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Decodes one listing object into snapshot items; extents' refs index the manifest's pack list. */
    public static List<SnapshotItem> decode(byte[] gzipped, int packCount, String what) {
        List<SnapshotItem> out = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(new ByteArrayInputStream(gzipped), 1 << 16))) {
            while (true) {
                int keyLen;
                try {
                    keyLen = in.readUnsignedShort();
                } catch (EOFException e) {
                    break;
                }
                byte[] key = in.readNBytes(keyLen);
                if (key.length != keyLen) {
                    throw new EOFException();
                }
                if (keyLen < 9) {
                    throw new ClonefsException.InvalidArgument(what + " is corrupt: key of " + keyLen + " bytes");
                }
                ByteBuffer k = ByteBuffer.wrap(key);
                if (key[8] == EXTENT) {
                    int pack = in.readInt();
                    int slot = in.readInt();
                    byte[] sha = in.readNBytes(32);
                    if (keyLen != 17 || sha.length != 32 || pack < 0 || pack >= packCount || slot < 0) {
                        throw new ClonefsException.InvalidArgument(what + " is corrupt: bad block reference (pack " + pack
                                + " of " + packCount + ", slot " + slot + ")");
                    }
                    out.add(new SnapshotItem.RemoteExtent(inode(k.getLong(0), what), k.getLong(9), new RemoteRef(pack, slot, sha)));
                } else {
                    int len = in.readInt();
                    if (len < 0 || len > MAX_UNCOMPRESSED) {
                        throw new ClonefsException.InvalidArgument(what + " is corrupt: value of " + len + " bytes");
                    }
                    byte[] v = in.readNBytes(len);
                    if (v.length != len) {
                        throw new EOFException();
                    }
                    out.add(item(k, v, what));
                }
            }
        } catch (EOFException e) {
            throw new ClonefsException.InvalidArgument(what + " is corrupt: truncated record");
        } catch (IOException e) {
            throw new ClonefsException.InvalidArgument(what + " is corrupt: " + e.getMessage());
        }
        return out;
    }

    /** A record other than an extent, from its key and value. */
    private static SnapshotItem item(ByteBuffer key, byte[] value, String what) {
        int keyLen = key.capacity();
        byte type = key.get(8);
        ByteBuffer v = ByteBuffer.wrap(value);
        if (type == SUPER && keyLen == 9 && key.getLong(0) == 0 && value.length == 16) {
            return new SnapshotItem.Super(v.getLong(), v.getLong());
        }
        if (type == INODE && keyLen == 9 && value.length >= INODE_FIXED) {
            InodeId ino = inode(key.getLong(0), what);
            int mode = v.getInt();
            int uid = v.getInt();
            int gid = v.getInt();
            int nlink = v.getInt();
            long size = v.getLong();
            long blocks = v.getLong();
            long atime = v.getLong();
            long mtime = v.getLong();
            long ctime = v.getLong();
            long parent = v.getLong();
            byte[] target = new byte[v.remaining()];
            v.get(target);
            return new SnapshotItem.Inode(ino, mode, uid, gid, nlink, size, blocks, atime, mtime, ctime, parent, target);
        }
        if (type == DIRENT && value.length == 9) {
            byte[] name = new byte[keyLen - 9];
            key.get(9, name);
            return new SnapshotItem.DirEntry(inode(key.getLong(0), what), name, inode(v.getLong(), what), fileType(v.get(), what));
        }
        if (type == ORPHAN && keyLen == 17 && key.getLong(0) == 0 && value.length == 0) {
            return new SnapshotItem.Orphan(inode(key.getLong(9), what));
        }
        throw new ClonefsException.InvalidArgument(what + " is corrupt: an item of type " + type + " with a key of " + keyLen
                + " bytes and a value of " + value.length + " bytes");
    }

    private static InodeId inode(long ino, String what) {
        if (ino <= 0) {
            throw new ClonefsException.InvalidArgument(what + " is corrupt: inode number " + ino);
        }
        return InodeId.of(ino);
    }

    private static FileType fileType(byte b, String what) {
        int bits = (b & 0xff) << 12;
        for (FileType t : FileType.values()) {
            if (t.bits() == bits) {
                return t;
            }
        }
        throw new ClonefsException.InvalidArgument(what + " is corrupt: file type " + (b & 0xff));
    }

    /** The items of several listing objects, fetched one object at a time by {@code load}. */
    public static Iterator<SnapshotItem> items(int objects, IntFunction<List<SnapshotItem>> load) {
        return new Iterator<>() {
            int next;
            Iterator<SnapshotItem> cur = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!cur.hasNext() && next < objects) {
                    cur = load.apply(next++).iterator();
                }
                return cur.hasNext();
            }

            @Override
            public SnapshotItem next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return cur.next();
            }
        };
    }
}
