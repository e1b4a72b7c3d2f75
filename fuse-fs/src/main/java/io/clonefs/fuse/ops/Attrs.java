package io.clonefs.fuse.ops;

import io.clonefs.engine.InodeAttr;
import io.clonefs.engine.Names;
import io.clonefs.engine.SpaceInfo;
import io.clonefs.fuse.protocol.FuseAttr;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * Engine attributes as FUSE wants them: filled into libfuse's {@code struct stat} and
 * {@code struct statvfs} for the path-level callbacks, or as a protocol {@link FuseAttr} for the
 * replies the request loop writes itself. {@code st_blocks} counts 512-byte units,
 * {@code st_blksize} is the pool's block size. Immutable; thread-safe.
 */
final class Attrs {
    private static final int SYNTHETIC_DIR_MODE = 0040755;
    private static final long NS = 1_000_000_000L;

    private final int blockSize;
    /** Times of the synthetic directories: when the mount was made. */
    private final long createdNs;

    Attrs(int blockSize) {
        this.blockSize = blockSize;
        this.createdNs = System.currentTimeMillis() * 1_000_000L;
    }

    /** {@code a}, an inode of {@code d}. */
    void fill(FileStat st, Namespace.Dataset d, InodeAttr a) {
        st.st_ino.set(d.stIno(a.ino()));
        st.st_mode.set(a.mode());
        st.st_nlink.set(a.nlink());
        st.st_uid.set(a.uid());
        st.st_gid.set(a.gid());
        st.st_size.set(a.size());
        st.st_rdev.set(a.rdev());
        st.st_blksize.set(blockSize);
        st.st_blocks.set(a.blocks() * (blockSize / 512));
        setTime(st.st_atim, a.atimeNs());
        setTime(st.st_mtim, a.mtimeNs());
        setTime(st.st_ctim, a.ctimeNs());
    }

    /** A synthetic directory (the mount root, {@code .snapshots}): mode 0755, owned by root. */
    void fillSynthetic(FileStat st, long ino) {
        st.st_ino.set(ino);
        st.st_mode.set(SYNTHETIC_DIR_MODE);
        // 1 = "subdirectory count unknown" (as btrfs does), so find(1) never assumes a leaf.
        st.st_nlink.set(1);
        st.st_uid.set(0);
        st.st_gid.set(0);
        st.st_size.set(0);
        st.st_blksize.set(blockSize);
        setTime(st.st_atim, createdNs);
        setTime(st.st_mtim, createdNs);
        setTime(st.st_ctim, createdNs);
    }

    /** The pool's space; inodes are tree items, limited only by space: as many as free blocks. */
    static void fill(Statvfs st, SpaceInfo s) {
        long bs = s.blockSize();
        long free = s.freeBytes() / bs;
        long total = free + (s.usedBytes() + bs - 1) / bs;
        st.f_bsize.set(bs);
        st.f_frsize.set(bs);
        st.f_blocks.set(total);
        st.f_bfree.set(free);
        st.f_bavail.set(free);
        st.f_files.set(total);
        st.f_ffree.set(free);
        st.f_favail.set(free);
        st.f_namemax.set(Names.MAX_FILE_NAME_BYTES);
    }

    /** {@code a} with {@code st_ino} {@code stIno}, for a reply the request loop encodes. */
    FuseAttr fuseAttr(long stIno, InodeAttr a) {
        return new FuseAttr(stIno, a.size(), a.blocks() * (blockSize / 512), a.atimeNs(), a.mtimeNs(), a.ctimeNs(),
                a.mode(), a.nlink(), a.uid(), a.gid(), (int) a.rdev(), blockSize);
    }

    private static void setTime(Timespec t, long ns) {
        t.tv_sec.set(Math.floorDiv(ns, NS));
        t.tv_nsec.set(Math.floorMod(ns, NS));
    }
}
