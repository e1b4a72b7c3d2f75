package io.clonefs.engine;

import io.clonefs.base.Errno;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reference model the randomized tests compare the engine with: a pool of volumes and
 * snapshots, each a tree of {@link Node}s held in memory. Deliberately naive (whole-file byte
 * arrays, deep copies on snapshot) so that it is obviously right.
 *
 * <p>File contents are treated as immutable arrays: every change installs a new array, so a deep
 * copy of a tree may share them.
 *
 * <p>{@link #apply} returns the {@link Errno} the operation must fail with, or null on success;
 * a failed operation changes nothing.
 */
final class Model {
    /** One inode. A hard-linked file is one Node referenced by several directory entries. */
    static final class Node {
        final FileType type;
        int mode;
        byte[] data = new byte[0];
        String target;
        /** A device's number; 0 for any other type. */
        long rdev;
        final TreeMap<String, Node> children;
        int nlink;

        Node(FileType type, int perm) {
            this.type = type;
            this.mode = type.bits() | (perm & FileType.PERMISSION_MASK);
            this.children = type == FileType.DIRECTORY ? new TreeMap<>(Model::compareUtf8) : null;
        }

        long size() {
            return switch (type) {
                case REGULAR -> data.length;
                case SYMLINK -> target.getBytes(StandardCharsets.UTF_8).length;
                case DIRECTORY -> -1;
                case FIFO, CHAR_DEVICE, BLOCK_DEVICE, SOCKET -> 0;
            };
        }
    }

    /** A volume or snapshot tree plus its lineage. */
    static final class Dataset {
        final Node root;
        final String origin; // volumes: the snapshot cloned from, or null

        Dataset(Node root, String origin) {
            this.root = root;
            this.origin = origin;
        }
    }

    final Map<String, Dataset> volumes = new LinkedHashMap<>();
    final Map<String, Dataset> snapshots = new LinkedHashMap<>();

    static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    static Node newRoot() {
        Node r = new Node(FileType.DIRECTORY, 0755);
        r.nlink = 1;
        return r;
    }

    static Node deepCopy(Node root) {
        return copy(root, new IdentityHashMap<>());
    }

    private static Node copy(Node n, IdentityHashMap<Node, Node> seen) {
        Node c = seen.get(n);
        if (c != null) {
            return c;
        }
        c = new Node(n.type, n.mode);
        c.mode = n.mode;
        c.data = n.data;
        c.target = n.target;
        c.rdev = n.rdev;
        c.nlink = n.nlink;
        seen.put(n, c);
        if (n.children != null) {
            for (Map.Entry<String, Node> e : n.children.entrySet()) {
                c.children.put(e.getKey(), copy(e.getValue(), seen));
            }
        }
        return c;
    }

    /** A deep copy of the whole pool. */
    Model copy() {
        Model m = new Model();
        volumes.forEach((k, v) -> m.volumes.put(k, new Dataset(deepCopy(v.root), v.origin)));
        snapshots.forEach((k, v) -> m.snapshots.put(k, new Dataset(deepCopy(v.root), null)));
        return m;
    }

    Node tree(String dataset) {
        Dataset d = Names.isSnapshotName(dataset) ? snapshots.get(dataset) : volumes.get(dataset);
        return d == null ? null : d.root;
    }

    /** Every path below the root (not the root itself), parents before children. */
    static List<String> paths(Node root) {
        List<String> out = new ArrayList<>();
        walk(root, "", out);
        return out;
    }

    private static void walk(Node dir, String prefix, List<String> out) {
        for (Map.Entry<String, Node> e : dir.children.entrySet()) {
            String p = prefix.isEmpty() ? e.getKey() : prefix + "/" + e.getKey();
            out.add(p);
            if (e.getValue().type == FileType.DIRECTORY) {
                walk(e.getValue(), p, out);
            }
        }
    }

    /** The node at a path, without following symlinks; null if missing. */
    static Node lookup(Node root, String path) {
        if (path.isEmpty()) {
            return root;
        }
        Node n = root;
        for (String part : path.split("/")) {
            if (n.type != FileType.DIRECTORY) {
                return null;
            }
            n = n.children.get(part);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }

    static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** Snapshots of a volume, by full name. */
    List<String> snapshotsOf(String volume) {
        List<String> out = new ArrayList<>();
        for (String s : snapshots.keySet()) {
            if (s.substring(0, s.indexOf('@')).equals(volume)) {
                out.add(s);
            }
        }
        return out;
    }

    List<String> clonesOf(String snapshot) {
        List<String> out = new ArrayList<>();
        volumes.forEach((k, v) -> {
            if (snapshot.equals(v.origin)) {
                out.add(k);
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- operations

    Errno apply(Op op) {
        return switch (op.kind()) {
            case CREATE_VOLUME -> {
                if (volumes.containsKey(op.volume())) {
                    yield Errno.EEXIST;
                }
                volumes.put(op.volume(), new Dataset(newRoot(), null));
                yield null;
            }
            case SNAPSHOT -> {
                Dataset v = volumes.get(op.volume());
                if (v == null) {
                    yield Errno.ENOENT;
                }
                if (snapshots.containsKey(op.path())) {
                    yield Errno.EEXIST;
                }
                snapshots.put(op.path(), new Dataset(deepCopy(v.root), null));
                yield null;
            }
            case CLONE -> {
                Dataset s = snapshots.get(op.path());
                if (s == null) {
                    yield Errno.ENOENT;
                }
                if (volumes.containsKey(op.volume())) {
                    yield Errno.EEXIST;
                }
                volumes.put(op.volume(), new Dataset(deepCopy(s.root), op.path()));
                yield null;
            }
            case DESTROY -> destroy(op.volume(), op.flag());
            case REOPEN -> null;
            default -> applyFile(op);
        };
    }

    private Errno destroy(String name, boolean recursive) {
        boolean snap = Names.isSnapshotName(name);
        if (snap ? !snapshots.containsKey(name) : !volumes.containsKey(name)) {
            return Errno.ENOENT;
        }
        List<String> deps = snap ? clonesOf(name) : snapshotsOf(name);
        if (!deps.isEmpty() && !recursive) {
            return Errno.EBUSY;
        }
        for (String d : deps) {
            destroy(d, true);
        }
        if (snap) {
            snapshots.remove(name);
        } else {
            volumes.remove(name);
        }
        return null;
    }

    private Errno applyFile(Op op) {
        Dataset ds = Names.isSnapshotName(op.volume()) ? snapshots.get(op.volume()) : volumes.get(op.volume());
        if (ds == null) {
            return Errno.ENOENT;
        }
        if (Names.isSnapshotName(op.volume())) {
            return Errno.EROFS;
        }
        Node root = ds.root;
        Node parent = lookup(root, parentOf(op.path()));
        String name = nameOf(op.path());
        boolean twoPaths = op.kind() == Op.Kind.LINK || op.kind() == Op.Kind.RENAME;
        if (tooLong(op.path()) || (twoPaths && tooLong(op.path2()))) {
            return Errno.ENAMETOOLONG;
        }
        switch (op.kind()) {
            case CREATE, MKDIR, SYMLINK, MKNOD -> {
                if (parent == null) {
                    return Errno.ENOENT;
                }
                if (parent.type != FileType.DIRECTORY) {
                    return Errno.ENOTDIR;
                }
                if (parent.children.containsKey(name)) {
                    return Errno.EEXIST;
                }
                Node n = switch (op.kind()) {
                    case CREATE -> new Node(FileType.REGULAR, op.mode());
                    case MKDIR -> new Node(FileType.DIRECTORY, op.mode());
                    case MKNOD -> new Node(FileType.ofMode(op.mode()), op.mode());
                    default -> new Node(FileType.SYMLINK, 0777);
                };
                n.rdev = n.type.device() ? op.offset() : 0;
                n.target = op.kind() == Op.Kind.SYMLINK ? op.path2() : null;
                n.nlink = 1;
                parent.children.put(name, n);
                return null;
            }
            default -> {
            }
        }
        Node n = lookup(root, op.path());
        if (n == null) {
            return Errno.ENOENT;
        }
        switch (op.kind()) {
            case WRITE -> {
                if (n.type == FileType.DIRECTORY) {
                    return Errno.EISDIR;
                }
                if (n.type != FileType.REGULAR) {
                    return Errno.EINVAL;
                }
                byte[] src = Op.data(op.dataSeed(), op.length());
                if (src.length == 0) {
                    return null; // a zero-length write changes nothing, not even the size
                }
                long end = op.offset() + src.length;
                byte[] d = Arrays.copyOf(n.data, (int) Math.max(n.data.length, end));
                System.arraycopy(src, 0, d, (int) op.offset(), src.length);
                n.data = d;
                return null;
            }
            case TRUNCATE -> {
                if (n.type == FileType.DIRECTORY) {
                    return Errno.EISDIR;
                }
                if (n.type != FileType.REGULAR) {
                    return Errno.EINVAL;
                }
                n.data = Arrays.copyOf(n.data, (int) op.offset());
                return null;
            }
            case CHMOD -> {
                n.mode = (n.mode & FileType.TYPE_MASK) | (op.mode() & FileType.PERMISSION_MASK);
                return null;
            }
            case UNLINK -> {
                if (n.type == FileType.DIRECTORY) {
                    return Errno.EISDIR;
                }
                parent.children.remove(name);
                n.nlink--;
                return null;
            }
            case RMDIR -> {
                if (n.type != FileType.DIRECTORY) {
                    return Errno.ENOTDIR;
                }
                if (!n.children.isEmpty()) {
                    return Errno.ENOTEMPTY;
                }
                parent.children.remove(name);
                return null;
            }
            case LINK -> {
                if (n.type == FileType.DIRECTORY) {
                    return Errno.EPERM;
                }
                Node dstParent = lookup(root, parentOf(op.path2()));
                if (dstParent == null) {
                    return Errno.ENOENT;
                }
                if (dstParent.type != FileType.DIRECTORY) {
                    return Errno.ENOTDIR;
                }
                if (dstParent.children.containsKey(nameOf(op.path2()))) {
                    return Errno.EEXIST;
                }
                dstParent.children.put(nameOf(op.path2()), n);
                n.nlink++;
                return null;
            }
            case RENAME -> {
                return rename(root, op.path(), op.path2());
            }
            default -> throw new IllegalStateException("not a file op: " + op);
        }
    }

    private static boolean tooLong(String path) {
        return nameOf(path).getBytes(StandardCharsets.UTF_8).length > Names.MAX_FILE_NAME_BYTES;
    }

    private static Errno rename(Node root, String src, String dst) {
        Node sp = lookup(root, parentOf(src));
        Node n = sp.children.get(nameOf(src));
        Node dp = lookup(root, parentOf(dst));
        if (dp == null) {
            return Errno.ENOENT;
        }
        if (dp.type != FileType.DIRECTORY) {
            return Errno.ENOTDIR;
        }
        if (n.type == FileType.DIRECTORY && (dst.equals(src) || dst.startsWith(src + "/"))) {
            return dst.equals(src) ? null : Errno.EINVAL;
        }
        Node old = dp.children.get(nameOf(dst));
        if (old == n) {
            return null; // same inode (same entry or two hard links): POSIX says do nothing
        }
        if (old != null) {
            if (n.type == FileType.DIRECTORY && old.type != FileType.DIRECTORY) {
                return Errno.ENOTDIR;
            }
            if (n.type != FileType.DIRECTORY && old.type == FileType.DIRECTORY) {
                return Errno.EISDIR;
            }
            if (old.type == FileType.DIRECTORY && !old.children.isEmpty()) {
                return Errno.ENOTEMPTY;
            }
            old.nlink--;
        }
        sp.children.remove(nameOf(src));
        dp.children.put(nameOf(dst), n);
        return null;
    }
}
