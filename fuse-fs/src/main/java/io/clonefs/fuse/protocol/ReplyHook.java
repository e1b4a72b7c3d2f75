package io.clonefs.fuse.protocol;

import io.clonefs.base.LibC;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The channel's {@code send} for every reply after INIT, where {@link InitPatch} checked libfuse
 * 2.9's private layout: writes each reply with {@code writev(2)} as libfuse's own send does, and
 * on the way keeps the kernel's attributes of a hard link's other names right.
 *
 * <p>libfuse 2's path API gives every name its own node id, so the kernel holds one inode per
 * name of a file with several links, each with attributes it caches for {@code attr_timeout}.
 * A link, unlink or rename through one name changes the link count (and a chmod or chown the
 * mode and owner) the others show. The hook learns which node ids name which file from the
 * replies that create node ids (LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE: the reply's
 * {@code fuse_entry_out} carries the node id and, with {@code use_ino}, the file's
 * {@code st_ino}; {@link NodeIds#entryReplied}), and before it writes a reply it sends the
 * attribute invalidations the request's callback asked for ({@link NodeIds#attributesChanged}):
 * {@code FUSE_NOTIFY_INVAL_INODE} with a negative offset, which drops the inode's cached
 * attributes and touches no page, so the kernel takes no lock the request being answered could
 * hold. The caller of the link or unlink is woken by the reply, after the invalidation: its next
 * {@code stat} of another name asks the daemon.
 *
 * <p>Thread rules: runs on the worker that answers, inside {@code fuse_session_process_buf};
 * {@link #serving} names that worker's request type. {@code -D}{@value #PROPERTY}{@code =false}
 * leaves libfuse's send in place (for comparisons: the hard links' other names then keep their
 * cached attributes up to {@code attr_timeout}).
 */
final class ReplyHook implements Libfuse.Send {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyHook.class);
    static final String PROPERTY = "clonefs.fuse.replyHook";
    static final int FUSE_LOOKUP = 1;
    static final int FUSE_SYMLINK = 6;
    static final int FUSE_MKNOD = 8;
    static final int FUSE_MKDIR = 9;
    static final int FUSE_LINK = 13;
    static final int FUSE_CREATE = 35;
    private static final int FUSE_NOTIFY_INVAL_INODE = 2;
    private static final int OUT_HEADER = 16;
    /** fuse_entry_out: nodeid, generation, entry_valid, attr_valid, two nsecs, then fuse_attr (ino first). */
    private static final int ENTRY_NODEID = 0;
    private static final int ENTRY_ATTR_INO = 40;
    private static final int ENTRY_MIN = 48;
    /** out header + fuse_notify_inval_inode_out { u64 ino; s64 off; s64 len; }. */
    private static final int INVAL_LEN = OUT_HEADER + 24;

    private final int fd;
    private final NodeIds<?> nodeIds;
    private final ThreadLocal<int[]> opcode = ThreadLocal.withInitial(() -> new int[1]);
    private final ThreadLocal<Pointer> invalBuf;
    /** The native closure of {@link #send}, kept reachable for as long as the channel uses it. */
    private Pointer closure;

    ReplyHook(int fd, NodeIds<?> nodeIds) {
        this.fd = fd;
        this.nodeIds = nodeIds;
        Runtime rt = Runtime.getSystemRuntime();
        this.invalBuf = ThreadLocal.withInitial(() -> Memory.allocateDirect(rt, INVAL_LEN, true));
    }

    /** Puts the hook in as channel {@code ch}'s send (layout checked by {@link InitPatch#problem}). */
    void install(Pointer ch) {
        closure = Runtime.getSystemRuntime().getClosureManager().getClosurePointer(Libfuse.Send.class, this);
        ch.putPointer(InitPatch.SEND_OFFSET, closure);
    }

    /** The request type this worker answers next (0 after it). */
    void serving(int op) {
        opcode.get()[0] = op;
    }

    @Override
    public int send(Pointer ch, Pointer iov, long count) {
        try {
            long[] changed = nodeIds.takeAttributeInvalidations();
            for (long id : changed) {
                invalidateAttributes(id);
            }
            int op = opcode.get()[0];
            if (op != 0 && createsNodeId(op) && count >= 2) {
                Pointer header = iov.getPointer(0);
                long headerLen = iov.getLong(8);
                long argLen = iov.getLong(24);
                if (headerLen == OUT_HEADER && header.getInt(4) == 0 && header.getLong(8) != 0 && argLen >= ENTRY_MIN) {
                    Pointer entry = iov.getPointer(16);
                    nodeIds.entryReplied(entry.getLong(ENTRY_NODEID), entry.getLong(ENTRY_ATTR_INO));
                }
            }
        } catch (RuntimeException e) {
            LOG.error("FUSE: reply bookkeeping failed; the reply goes out", e);
        }
        long n = LibC.get().writev(fd, iov, (int) count);
        if (n < 0) {
            int errno = LibC.lastErrno();
            return -(errno == 0 ? 5 : errno); // as libfuse's send: ENOENT is an interrupted request
        }
        return 0;
    }

    /** {@code FUSE_NOTIFY_INVAL_INODE} of {@code nodeId} with offset -1: its attributes, no pages. */
    private void invalidateAttributes(long nodeId) {
        Pointer b = invalBuf.get();
        b.putInt(0, INVAL_LEN);
        b.putInt(4, FUSE_NOTIFY_INVAL_INODE);
        b.putLong(8, 0);
        b.putLong(16, nodeId);
        b.putLong(24, -1);
        b.putLong(32, 0);
        long n = LibC.get().write(fd, b, INVAL_LEN);
        if (n != INVAL_LEN) {
            int errno = LibC.lastErrno();
            if (errno != 2) { // ENOENT: the kernel no longer has that inode
                LOG.warn("FUSE: cannot invalidate the attributes of node {}: errno {}", nodeId, errno);
            }
        }
    }

    static boolean createsNodeId(int op) {
        return op == FUSE_LOOKUP || op == FUSE_MKNOD || op == FUSE_MKDIR || op == FUSE_SYMLINK || op == FUSE_LINK
                || op == FUSE_CREATE;
    }
}
