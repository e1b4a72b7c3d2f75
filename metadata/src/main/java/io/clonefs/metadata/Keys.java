package io.clonefs.metadata;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** Encoders of the tree keys tabled in {@link Schema}. */
public final class Keys {
    public static final byte SUPER = 0;
    public static final byte INODE = 1;
    public static final byte DIRENT = 2;
    public static final byte EXTENT = 3;
    public static final byte ORPHAN = 4;

    private static final byte[] SUPER_KEY = new byte[9];

    private Keys() {
    }

    public static byte[] superKey() {
        return SUPER_KEY.clone();
    }

    public static byte[] inode(long ino) {
        return ByteBuffer.allocate(9).putLong(ino).put(INODE).array();
    }

    public static byte[] dirent(long dir, byte[] name) {
        return ByteBuffer.allocate(9 + name.length).putLong(dir).put(DIRENT).put(name).array();
    }

    /** First key of the directory entries of {@code dir}. */
    public static byte[] direntsFrom(long dir) {
        return ByteBuffer.allocate(9).putLong(dir).put(DIRENT).array();
    }

    /** Key just past the directory entries of {@code dir}. */
    public static byte[] direntsTo(long dir) {
        return ByteBuffer.allocate(9).putLong(dir).put((byte) (DIRENT + 1)).array();
    }

    public static byte[] extent(long ino, long index) {
        // by hand, not through a ByteBuffer: one key per block written
        byte[] k = new byte[17];
        putLong(k, 0, ino);
        k[8] = EXTENT;
        putLong(k, 9, index);
        return k;
    }

    /** Big-endian, as {@link ByteBuffer#putLong} writes. */
    static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    /** Big-endian, as {@link ByteBuffer#getLong} reads. */
    static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }

    /** Key just past the extents of {@code ino}. */
    public static byte[] extentsTo(long ino) {
        return ByteBuffer.allocate(9).putLong(ino).put((byte) (EXTENT + 1)).array();
    }

    public static byte[] orphan(long ino) {
        return ByteBuffer.allocate(17).putLong(0).put(ORPHAN).putLong(ino).array();
    }

    public static byte[] orphansFrom() {
        return ByteBuffer.allocate(9).putLong(0).put(ORPHAN).array();
    }

    public static byte[] orphansTo() {
        return ByteBuffer.allocate(9).putLong(0).put((byte) (ORPHAN + 1)).array();
    }

    public static long ino(byte[] key) {
        return ByteBuffer.wrap(key, 0, 8).getLong();
    }

    public static byte type(byte[] key) {
        return key[8];
    }

    /** The block index of an extent key. */
    public static long extentIndex(byte[] key) {
        return getLong(key, 9);
    }

    /** The inode number of an orphan key. */
    public static long orphanIno(byte[] key) {
        return ByteBuffer.wrap(key, 9, 8).getLong();
    }

    public static byte[] direntName(byte[] key) {
        return Arrays.copyOfRange(key, 9, key.length);
    }

    /** The block a tree entry references, or -1: only extents reference blocks. */
    public static long blockRef(byte[] key, byte[] value) {
        if (key.length == 17 && key[8] == EXTENT) {
            return getLong(value, 0);
        }
        return -1;
    }

    /** Unsigned lexicographic order, the order of LMDB and of the tree. */
    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }
}
