package io.clonefs.remote;

import io.clonefs.block.RemoteRef;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.ImportItem;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A snapshot's tree items as stored in {@code P/listings/<sha256>} objects: gzip'd records, in
 * key order, all big-endian:
 * <pre>
 * u16 keyLen, key[keyLen],
 *   then for an extent (key type EXTENT, 17 bytes): u32 packIndex, u32 slot, sha256[32]
 *   else:                                            u32 valueLen, value[valueLen]
 * </pre>
 * {@code packIndex} indexes the manifest's pack list. A snapshot's listing is split into objects
 * of at most {@link #MAX_UNCOMPRESSED} bytes before compression, each record in one object.
 */
public final class Listing {
    public static final int MAX_UNCOMPRESSED = 8 << 20;

    private Listing() {
    }

    /** True for an extent item's key (17 bytes, type EXTENT): its value is a block id. */
    public static boolean isExtent(byte[] key) {
        return key.length == 17 && key[8] == io.clonefs.metadata.Keys.EXTENT;
    }

    /** Collects records and hands each full object (gzip'd) to {@code sink}. */
    public static final class Writer {
        private final Consumer<byte[]> sink;
        private ByteArrayOutputStream buf = new ByteArrayOutputStream(1 << 20);
        private long items;

        public Writer(Consumer<byte[]> sink) {
            this.sink = sink;
        }

        public void extent(byte[] key, int pack, int slot, byte[] sha256) {
            if (sha256.length != 32) {
                throw new IllegalArgumentException("sha256 must be 32 bytes");
            }
            ensure(2 + key.length + 4 + 4 + 32);
            DataOutputStream o = new DataOutputStream(buf);
            try {
                o.writeShort(key.length);
                o.write(key);
                o.writeInt(pack);
                o.writeInt(slot);
                o.write(sha256);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            items++;
        }

        public void item(byte[] key, byte[] value) {
            if (isExtent(key)) {
                throw new IllegalArgumentException("an extent needs its remote place");
            }
            ensure(2 + key.length + 4 + value.length);
            DataOutputStream o = new DataOutputStream(buf);
            try {
                o.writeShort(key.length);
                o.write(key);
                o.writeInt(value.length);
                o.write(value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
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

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Decodes one listing object into import items; refs index the manifest's pack list. */
    public static List<ImportItem> decode(byte[] gzipped, int packCount, String what) {
        List<ImportItem> out = new ArrayList<>();
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
                if (isExtent(key)) {
                    int pack = in.readInt();
                    int slot = in.readInt();
                    byte[] sha = in.readNBytes(32);
                    if (sha.length != 32 || pack < 0 || pack >= packCount || slot < 0) {
                        throw new ClonefsException.InvalidArgument(what + " is corrupt: bad block reference (pack " + pack
                                + " of " + packCount + ", slot " + slot + ")");
                    }
                    out.add(new ImportItem(key, new byte[8], new RemoteRef(pack, slot, sha)));
                } else {
                    int len = in.readInt();
                    if (len < 0 || len > MAX_UNCOMPRESSED) {
                        throw new ClonefsException.InvalidArgument(what + " is corrupt: value of " + len + " bytes");
                    }
                    byte[] v = in.readNBytes(len);
                    if (v.length != len) {
                        throw new EOFException();
                    }
                    out.add(new ImportItem(key, v, null));
                }
            }
        } catch (EOFException e) {
            throw new ClonefsException.InvalidArgument(what + " is corrupt: truncated record");
        } catch (IOException e) {
            throw new ClonefsException.InvalidArgument(what + " is corrupt: " + e.getMessage());
        }
        return out;
    }

    /** The items of several listing objects, fetched one object at a time by {@code load}. */
    public static Iterator<ImportItem> items(int objects, java.util.function.IntFunction<List<ImportItem>> load) {
        return new Iterator<>() {
            int next;
            Iterator<ImportItem> cur = java.util.Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!cur.hasNext() && next < objects) {
                    cur = load.apply(next++).iterator();
                }
                return cur.hasNext();
            }

            @Override
            public ImportItem next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return cur.next();
            }
        };
    }
}
