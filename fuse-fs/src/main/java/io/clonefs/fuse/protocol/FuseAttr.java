package io.clonefs.fuse.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;

/**
 * A file's attributes as the FUSE protocol carries them ({@code struct fuse_attr}), and the one
 * encoder of {@code struct fuse_attr_out} in clonefs: every reply the adapter writes itself
 * instead of libfuse goes through {@link #writeAttrOut}.
 *
 * @param ino     {@code st_ino}
 * @param size    bytes
 * @param blocks  512-byte units ({@code st_blocks})
 * @param atimeNs access time, ns since the epoch
 * @param mtimeNs modification time, ns since the epoch
 * @param ctimeNs change time, ns since the epoch
 * @param mode    type and permission bits
 * @param rdev    a device's number in the kernel's 32-bit encoding, else 0
 * @param blksize preferred I/O size ({@code st_blksize})
 */
public record FuseAttr(long ino, long size, long blocks, long atimeNs, long mtimeNs, long ctimeNs, int mode,
                       int nlink, int uid, int gid, int rdev, int blksize) {
    /**
     * How long the kernel may cache attributes and dentries, in seconds: {@code attr_valid} of the
     * replies written here and {@code attr_timeout}/{@code entry_timeout} of the mount.
     */
    public static final int CACHE_TIMEOUT_SECONDS = 1;
    /** Size of {@code struct fuse_attr_out} (protocol 7.9 and later). */
    public static final int ATTR_OUT_SIZE = 104;
    private static final long NS = 1_000_000_000L;

    /**
     * Writes {@code struct fuse_attr_out} at {@code out}'s position, little-endian: attr_valid,
     * attr_valid_nsec, dummy, then {@code struct fuse_attr}.
     */
    public void writeAttrOut(ByteBuffer out) {
        out.order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(CACHE_TIMEOUT_SECONDS).putInt(0).putInt(0);
        out.putLong(ino).putLong(size).putLong(blocks);
        out.putLong(Math.floorDiv(atimeNs, NS));
        out.putLong(Math.floorDiv(mtimeNs, NS));
        out.putLong(Math.floorDiv(ctimeNs, NS));
        out.putInt((int) Math.floorMod(atimeNs, NS));
        out.putInt((int) Math.floorMod(mtimeNs, NS));
        out.putInt((int) Math.floorMod(ctimeNs, NS));
        out.putInt(mode).putInt(nlink).putInt(uid).putInt(gid);
        out.putInt(rdev).putInt(blksize).putInt(0); // rdev, blksize, padding
    }

    /** The current time in ns since the epoch, as file times are kept. */
    public static long nowNs() {
        Instant i = Instant.now();
        return i.getEpochSecond() * NS + i.getNano();
    }
}
