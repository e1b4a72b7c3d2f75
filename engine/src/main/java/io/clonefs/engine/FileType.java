package io.clonefs.engine;

import io.clonefs.base.ClonefsException;

/**
 * File types and their {@code st_mode} type bits. The bits are what the inode record, the
 * directory entry (bits >>> 12) and a remote listing store, so a type is never renumbered; the
 * special files (FIFO, devices, socket) came later: a pool without any reads as before.
 */
public enum FileType {
    REGULAR(0100000), DIRECTORY(0040000), SYMLINK(0120000),
    /** Named pipe ({@code S_IFIFO}). */
    FIFO(0010000),
    /** Character device ({@code S_IFCHR}); its inode stores the device number. */
    CHAR_DEVICE(0020000),
    /** Block device ({@code S_IFBLK}); its inode stores the device number. */
    BLOCK_DEVICE(0060000),
    /** Unix domain socket ({@code S_IFSOCK}). */
    SOCKET(0140000);

    public static final int TYPE_MASK = 0170000;
    public static final int PERMISSION_MASK = 07777;
    private final int bits;

    FileType(int bits) {
        this.bits = bits;
    }

    /** The {@code S_IFxxx} bits of this type. */
    public int bits() {
        return bits;
    }

    /** A FIFO, device or socket: an inode with no data, opened by the kernel, not by clonefs. */
    public boolean special() {
        return this == FIFO || this == CHAR_DEVICE || this == BLOCK_DEVICE || this == SOCKET;
    }

    /** A character or block device, whose inode holds a device number. */
    public boolean device() {
        return this == CHAR_DEVICE || this == BLOCK_DEVICE;
    }

    /** The type encoded in an {@code st_mode}; rejects types clonefs does not store. */
    public static FileType ofMode(int mode) {
        int t = mode & TYPE_MASK;
        for (FileType f : values()) {
            if (f.bits == t) {
                return f;
            }
        }
        throw new ClonefsException.InvalidArgument("unsupported file type in mode 0" + Integer.toOctalString(mode));
    }
}
