package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.InodeRecord;
import io.clonefs.metadata.Keys;
import io.clonefs.metadata.MetaStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The namespace of one dataset: directory entries (name to inode number and file type), looked
 * up, listed, created (files, directories, symbolic links, hard links), removed and renamed, with
 * the link counts, parent pointers and directory times that go with them. The last link of an
 * inode that is not open deletes it ({@link FileData#purge}); of one still open, marks it orphan.
 *
 * <p>Thread rules: each operation validates its names first, then is one critical section under
 * the {@link MetaStore} monitor, so it is atomic with respect to snapshots. Callers check that the
 * dataset is writable.
 */
final class Directories {
    private final MetaStore meta;
    private final CowTree tree;
    private final DatasetRoot root;
    private final InodeTable inodes;
    private final FileData data;

    Directories(VolumeContext pool, DatasetRoot root, InodeTable inodes, FileData data) {
        this.meta = pool.meta();
        this.tree = pool.tree();
        this.root = root;
        this.inodes = inodes;
        this.data = data;
    }

    // ---- helpers (under the monitor) -----------------------------------------------------------

    private long direntIno(long dir, byte[] nameBytes) {
        byte[] v = tree.get(root.get(), Keys.dirent(dir, nameBytes));
        return v == null ? -1 : ByteBuffer.wrap(v).getLong();
    }

    private static byte[] direntValue(long ino, int mode) {
        return ByteBuffer.allocate(9).putLong(ino).put((byte) ((mode & FileType.TYPE_MASK) >>> 12)).array();
    }

    private void touchDir(long dir, InodeRecord d, long t, int nlinkDelta) {
        d.mtimeNs = t;
        d.ctimeNs = t;
        d.nlink += nlinkDelta;
        inodes.put(dir, d, true);
    }

    private void checkEmpty(long dirIno, String fileName) {
        boolean[] any = {false};
        tree.scan(root.get(), Keys.direntsFrom(dirIno), Keys.direntsTo(dirIno), (k, v) -> {
            any[0] = true;
            return false;
        });
        if (any[0]) {
            throw new ClonefsException.NotEmpty("directory '" + fileName + "' is not empty");
        }
    }

    /** Drops one link of a non-directory: the last one deletes the inode, or marks it orphan while it is open. */
    private void dropLink(long ino, InodeRecord r, long t) {
        r.nlink--;
        r.ctimeNs = t;
        if (r.nlink > 0) {
            inodes.put(ino, r, true);
        } else if (inodes.isOpen(ino)) {
            inodes.put(ino, r, true);
            inodes.markOrphan(ino);
        } else {
            data.purge(ino);
        }
    }

    // ---- lookups -------------------------------------------------------------------------------

    InodeId lookup(InodeId dir, String fileName) {
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            inodes.dirInode(dir.value());
            long ino = direntIno(dir.value(), nb);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + fileName + "' not found");
            }
            return InodeId.of(ino);
        }
    }

    /** Follows a path of names from the root directory, one {@link #lookup} (critical section) per name. */
    InodeId resolve(String relativePath) {
        InodeId cur = InodeId.ROOT;
        for (String part : relativePath.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                cur = lookup(cur, part);
            }
        }
        return cur;
    }

    List<DirEntry> readdir(InodeId dir) {
        synchronized (meta) {
            inodes.dirInode(dir.value());
            List<DirEntry> out = new ArrayList<>();
            tree.scan(root.get(), Keys.direntsFrom(dir.value()), Keys.direntsTo(dir.value()), (k, v) -> {
                ByteBuffer b = ByteBuffer.wrap(v);
                long ino = b.getLong();
                int type = (b.get() & 0xff) << 12;
                out.add(new DirEntry(new String(Keys.direntName(k), StandardCharsets.UTF_8), InodeId.of(ino), FileType.ofMode(type)));
                return true;
            });
            return out;
        }
    }

    String readlink(InodeId ino) {
        synchronized (meta) {
            InodeRecord r = inodes.inode(ino.value());
            if ((r.mode & FileType.TYPE_MASK) != FileType.SYMLINK.bits()) {
                throw new ClonefsException.InvalidArgument("inode " + ino.value() + " is not a symbolic link");
            }
            return r.targetString();
        }
    }

    // ---- changes -------------------------------------------------------------------------------

    /**
     * Creates an inode of {@code mode} (type and permissions, already checked) and its entry
     * {@code fileName} in {@code dir}; {@code target} is a symbolic link's target or a device's
     * number ({@link InodeTable#rdevBytes}), else null.
     */
    InodeAttr newInode(InodeId dir, String fileName, int mode, int uid, int gid, byte[] target) {
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            InodeRecord d = inodes.dirInode(dir.value());
            if (direntIno(dir.value(), nb) >= 0) {
                throw new ClonefsException.AlreadyExists("'" + fileName + "' already exists");
            }
            long ino = inodes.allocate();
            long t = InodeTable.now();
            InodeRecord r = new InodeRecord();
            r.mode = mode;
            r.uid = uid;
            r.gid = gid;
            r.atimeNs = t;
            r.mtimeNs = t;
            r.ctimeNs = t;
            boolean isDir = (mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
            r.nlink = isDir ? 2 : 1;
            r.parent = isDir ? dir.value() : 0;
            if (target != null) {
                r.target = target;
                // a symlink's size is its target's length; a device's tail is its number, size 0
                r.size = (mode & FileType.TYPE_MASK) == FileType.SYMLINK.bits() ? target.length : 0;
            }
            inodes.put(ino, r, true);
            tree.put(root, Keys.dirent(dir.value(), nb), direntValue(ino, mode));
            touchDir(dir.value(), d, t, isDir ? 1 : 0);
            return InodeTable.attr(ino, r);
        }
    }

    InodeAttr link(InodeId ino, InodeId newDir, String newName) {
        byte[] nb = Names.checkFileName(newName);
        synchronized (meta) {
            InodeRecord r = inodes.inode(ino.value());
            if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                throw new ClonefsException(Errno.EPERM, "cannot hard-link a directory");
            }
            InodeRecord d = inodes.dirInode(newDir.value());
            if (direntIno(newDir.value(), nb) >= 0) {
                throw new ClonefsException.AlreadyExists("'" + newName + "' already exists");
            }
            if (r.nlink == 0) {
                throw new ClonefsException.NotFound("inode " + ino.value() + " has been unlinked");
            }
            long t = InodeTable.now();
            r.nlink++;
            r.ctimeNs = t;
            inodes.put(ino.value(), r, true);
            tree.put(root, Keys.dirent(newDir.value(), nb), direntValue(ino.value(), r.mode));
            touchDir(newDir.value(), d, t, 0);
            return InodeTable.attr(ino.value(), r);
        }
    }

    void unlink(InodeId dir, String fileName) {
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            InodeRecord d = inodes.dirInode(dir.value());
            long ino = direntIno(dir.value(), nb);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + fileName + "' not found");
            }
            InodeRecord r = inodes.inode(ino);
            if ((r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits()) {
                throw new ClonefsException.IsDirectory("'" + fileName + "' is a directory");
            }
            long t = InodeTable.now();
            tree.delete(root, Keys.dirent(dir.value(), nb));
            dropLink(ino, r, t);
            touchDir(dir.value(), d, t, 0);
        }
    }

    void rmdir(InodeId dir, String fileName) {
        byte[] nb = Names.checkFileName(fileName);
        synchronized (meta) {
            InodeRecord d = inodes.dirInode(dir.value());
            long ino = direntIno(dir.value(), nb);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + fileName + "' not found");
            }
            inodes.dirInode(ino);
            checkEmpty(ino, fileName);
            tree.delete(root, Keys.dirent(dir.value(), nb));
            data.purge(ino);
            touchDir(dir.value(), d, InodeTable.now(), -1);
        }
    }

    void rename(InodeId srcDir, String srcName, InodeId dstDir, String dstName) {
        byte[] sn = Names.checkFileName(srcName);
        byte[] dn = Names.checkFileName(dstName);
        synchronized (meta) {
            InodeRecord sd = inodes.dirInode(srcDir.value());
            InodeRecord dd = srcDir.equals(dstDir) ? sd : inodes.dirInode(dstDir.value());
            long ino = direntIno(srcDir.value(), sn);
            if (ino < 0) {
                throw new ClonefsException.NotFound("'" + srcName + "' not found");
            }
            long existing = direntIno(dstDir.value(), dn);
            if (existing == ino) {
                return; // same file (or a hard link to it): POSIX says do nothing
            }
            InodeRecord r = inodes.inode(ino);
            boolean isDir = (r.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
            if (isDir && !srcDir.equals(dstDir)) {
                for (long p = dstDir.value(); ; p = inodes.inode(p).parent) {
                    if (p == ino) {
                        throw new ClonefsException.InvalidArgument("cannot move directory '" + srcName + "' into itself");
                    }
                    if (p == InodeId.ROOT.value()) {
                        break;
                    }
                }
            }
            long t = InodeTable.now();
            if (existing >= 0) {
                InodeRecord er = inodes.inode(existing);
                boolean eDir = (er.mode & FileType.TYPE_MASK) == FileType.DIRECTORY.bits();
                if (isDir && !eDir) {
                    throw new ClonefsException.NotDirectory("'" + dstName + "' is not a directory");
                }
                if (!isDir && eDir) {
                    throw new ClonefsException.IsDirectory("'" + dstName + "' is a directory");
                }
                if (eDir) {
                    checkEmpty(existing, dstName);
                    data.purge(existing);
                    dd.nlink--;
                } else {
                    dropLink(existing, er, t);
                }
            }
            tree.delete(root, Keys.dirent(srcDir.value(), sn));
            tree.put(root, Keys.dirent(dstDir.value(), dn), direntValue(ino, r.mode));
            r.ctimeNs = t;
            if (isDir && !srcDir.equals(dstDir)) {
                r.parent = dstDir.value();
                sd.nlink--;
                dd.nlink++;
            }
            inodes.put(ino, r, true);
            touchDir(srcDir.value(), sd, t, 0);
            if (!srcDir.equals(dstDir)) {
                touchDir(dstDir.value(), dd, t, 0);
            }
        }
    }
}
