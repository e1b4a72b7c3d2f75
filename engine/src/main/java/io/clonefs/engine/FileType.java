package io.clonefs.engine;

import io.clonefs.base.ClonefsException;

/** File types and their {@code st_mode} type bits. */
public enum FileType {
    REGULAR(0100000), DIRECTORY(0040000), SYMLINK(0120000);

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
