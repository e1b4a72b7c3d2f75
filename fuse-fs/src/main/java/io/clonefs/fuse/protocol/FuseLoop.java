package io.clonefs.fuse.protocol;

import io.clonefs.base.LibC;
import io.clonefs.fuse.protocol.InterceptedRequests.TimesReply;
import io.clonefs.metrics.Metrics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libfuse 2's request loop, run on Java threads that live as long as the mount, and the few
 * requests it watches or answers itself ({@link InterceptedRequests}).
 *
 * <p>Why not {@code fuse_main}: its loop runs callbacks on native threads, which the JVM sees as
 * new threads again and again (attached for a callback, detached after; the loop also starts a
 * thread whenever every worker is busy and ends one whenever more than ten are idle). Under
 * pgbench that was over a thousand thread starts a second; {@code PosixMountIT} counts 4,864 for
 * 40 bursts of 24 small writes. Here the same libfuse calls
 * ({@code fuse_setup}, {@code fuse_session_receive_buf}, {@code fuse_session_process_buf},
 * {@code fuse_teardown}) run on Java threads: a worker is added when the last idle one takes a
 * request (up to {@link #MAX_WORKERS}) and none ever ends before the unmount, so callbacks run on
 * threads that are already Java threads.
 *
 * <p><b>Writeback cache and 1 MiB requests on libfuse 2.</b> libfuse 2.9 speaks protocol 7.19
 * and never asks the kernel for {@code FUSE_WRITEBACK_CACHE} or {@code FUSE_MAX_PAGES}
 * (7.23/7.28), though the kernel honours both flags in any INIT reply of protocol 7.6 or later.
 * With {@link Tuning#writebackCache} the INIT reply libfuse writes is rewritten on its way to
 * {@code /dev/fuse} ({@link InitPatch}, which falls back to libfuse's settings, logged and
 * reported through {@link InterceptedRequests#writebackRefused}, on a libfuse whose private
 * layout it does not know or a channel that is not {@code /dev/fuse}): the two flags are added
 * when the kernel offered them,
 * {@code max_write} and {@code max_pages} are raised to {@link Tuning#maxWrite}, and the receive
 * buffers are sized for it. The kernel then keeps written pages in its page cache, owns file
 * size and mtime (so {@code lseek(SEEK_END)} and {@code stat} after a write need no round trip),
 * writes dirty pages back in requests of up to 1 MiB, and flushes them on {@code fsync},
 * {@code close} and {@code syncfs}. Errors of a write-back (EIO, ENOSPC) surface from
 * {@code fsync} and {@code close}, as on any filesystem with a page cache. With the patch in
 * place the loop also answers SETATTRs of times only itself and keeps {@link NodeIds} up to date
 * (see {@link InterceptedRequests}).
 *
 * <p><b>Refused writes.</b> The loop notes the node id of the requests that name their file
 * ({@link NodeIds#serving}) and handles FORGETs, with or without the patch; when the adapter's
 * write or truncate fails it asks for the node to be invalidated, which the invalidator thread
 * does right after the reply ({@link #invalidate}).
 *
 * <p><b>Hard links.</b> With the patch in place every reply after INIT goes out through
 * {@link ReplyHook}, which learns the node ids the kernel holds for each file (one per name
 * with libfuse 2's path API) and drops the other names' cached attributes before it answers a
 * link, unlink, rename, chmod or chown of a file with several names.
 *
 * <p>The loop ends when the kernel closes the connection (unmount): every blocked receive then
 * returns 0. Thread rules: {@link #run} blocks its caller until then.
 */
public final class FuseLoop {
    private static final Logger LOG = LoggerFactory.getLogger(FuseLoop.class);
    /** More workers than this wait in the kernel's queue instead. */
    static final int MAX_WORKERS = 64;
    private static final int INITIAL_WORKERS = 4;
    private static final int EINTR = 4;
    private static final int ENOENT = 2;
    private static final int ENOSYS = 38;
    private static final int O_TRUNC = 01000;
    /** How long a request waits for a pending invalidation of its node (a safety net: it takes microseconds). */
    private static final long INVALIDATION_WAIT_MS = 2000;
    private static final LongAdder INVALIDATIONS = Metrics.process().counter("clonefs_fuse_invalidations_total",
            "Kernel page-cache invalidations (FUSE_NOTIFY_INVAL_INODE) sent after the engine refused a write or truncate.",
            null, null);
    private static final String ANSWERS = "clonefs_fuse_loop_answers_total";
    private static final String ANSWERS_HELP = "FUSE requests the request loop answered itself, without libfuse, by type.";
    private static final LongAdder ANSWERED_READS = Metrics.process().counter(ANSWERS, ANSWERS_HELP, "op", "read");
    private static final LongAdder ANSWERED_WRITES = Metrics.process().counter(ANSWERS, ANSWERS_HELP, "op", "write");
    private static final LongAdder ANSWERED_FSYNCS = Metrics.process().counter(ANSWERS, ANSWERS_HELP, "op", "fsync");
    private static final LongAdder ANSWERED_FLUSHES = Metrics.process().counter(ANSWERS, ANSWERS_HELP, "op", "flush");
    private static final LongAdder ANSWERED_TIMES = Metrics.process().counter(ANSWERS, ANSWERS_HELP, "op", "setattr-times");
    private static final int FUSE_FORGET = 2;
    private static final int FUSE_BATCH_FORGET = 42;
    private static final int FUSE_INIT = 26;
    private static final int FUSE_SETATTR = 4;
    private static final int FUSE_GETATTR = 3;
    private static final int FUSE_OPEN = 14;
    private static final int FUSE_READ = 15;
    private static final int FUSE_WRITE = 16;
    private static final int FUSE_FSYNC = 20;
    private static final int FUSE_FLUSH = 25;
    /** struct fuse_write_in: fh, offset, size, write_flags, lock_owner, flags, padding; the data follows. */
    private static final int WRITE_IN = 40;
    /** struct fuse_write_out: size, padding. */
    private static final int WRITE_OUT = 8;
    /**
     * Off ({@code -Dclonefs.fuse.byHandle=false}): READ, WRITE, FSYNC and FLUSH go through libfuse
     * like every other request (for comparison; libfuse refuses FLUSH too, the adapter has none).
     */
    public static final String BY_HANDLE_PROPERTY = "clonefs.fuse.byHandle";
    // fuse_setattr_in.valid bits
    private static final int FATTR_ATIME = 1 << 4;
    private static final int FATTR_MTIME = 1 << 5;
    private static final int FATTR_FH = 1 << 6;
    private static final int FATTR_ATIME_NOW = 1 << 7;
    private static final int FATTR_MTIME_NOW = 1 << 8;
    private static final int FATTR_LOCKOWNER = 1 << 9;
    private static final int FATTR_CTIME = 1 << 10;
    private static final int TIMES_ONLY = FATTR_ATIME | FATTR_MTIME | FATTR_FH | FATTR_ATIME_NOW | FATTR_MTIME_NOW
            | FATTR_LOCKOWNER | FATTR_CTIME;
    /** struct fuse_in_header is 40 bytes; fuse_init_in's flags follow major, minor, max_readahead. */
    private static final int IN_HEADER = 40;
    private static final int INIT_IN_FLAGS = IN_HEADER + 12;
    /** struct fuse_out_header is 16 bytes. */
    private static final int OUT_HEADER = 16;
    /** Bytes a request carries besides its data (fuse_in_header + fuse_write_in, with margin). */
    private static final int REQUEST_HEADROOM = 4096;
    private static final int FUSE_BUF_IS_FD = 1 << 1;
    /** struct fuse_buf { size_t size; enum flags; void *mem; int fd; off_t pos; } on LP64. */
    private static final int BUF_STRUCT = 40;

    /**
     * How the mount is tuned beyond libfuse 2's own options.
     *
     * @param writebackCache ask for the writeback cache and requests of {@code maxWrite} bytes
     *                       ({@link InitPatch})
     * @param maxWrite       the largest write (and read) request, with the writeback cache
     * @param readAhead      the kernel's read-ahead of the mount in bytes ({@link ReadAhead}),
     *                       or 0 to keep the kernel's
     * @param dirtyShare     the percentage of the kernel's dirty limit the mount may hold with the
     *                       writeback cache ({@link DirtyShare}), or 0 to keep the kernel's (1 %)
     */
    public record Tuning(boolean writebackCache, int maxWrite, int readAhead, int dirtyShare) {
        public static final Tuning LIBFUSE_DEFAULTS = new Tuning(false, 0, 0, 0);
    }

    private final Pointer session;
    private final Pointer chan;
    private final long bufSize;
    private final String name;
    private final String mountpoint;
    private final int readAhead;
    private final int dirtyShare;
    /** Null without the patch; set to null if the INIT request fails the buffer check (before any other request). */
    private volatile InitPatch initPatch;
    /** The channel's send after INIT with the patch ({@link ReplyHook}), else null. */
    private volatile ReplyHook replyHook;
    private final InterceptedRequests fs;
    private final NodeIds<?> nodeIds;
    private final AtomicInteger idle = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    /** Node ids whose invalidation the invalidator thread sends next, in order, each once. */
    private final java.util.concurrent.LinkedBlockingQueue<Long> toInvalidate = new java.util.concurrent.LinkedBlockingQueue<>();
    private final java.util.Set<Long> queued = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean failed;

    private FuseLoop(Pointer session, Pointer chan, long bufSize, String name, String mountpoint, int readAhead,
                     int dirtyShare, InitPatch initPatch, InterceptedRequests fs) {
        this.dirtyShare = dirtyShare;
        this.mountpoint = mountpoint;
        this.readAhead = readAhead;
        this.fs = fs;
        this.nodeIds = fs.nodeIds();
        this.session = session;
        this.chan = chan;
        this.bufSize = bufSize;
        this.name = name;
        this.initPatch = initPatch;
    }

    /**
     * Mounts with {@code args} (as for {@code fuse_main}) and serves requests until the unmount.
     * Returns 0 after a clean unmount, 1 if libfuse could not mount or a receive failed.
     *
     * @param operations the {@code struct fuse_operations} (jnr-fuse's)
     * @param fs         the filesystem, for the requests the loop answers or watches itself
     */
    public static int run(String[] args, Pointer operations, long operationsSize, String threadName, Tuning tuning,
                          InterceptedRequests fs) {
        Libfuse.Lib l = Libfuse.lib();
        Runtime rt = Runtime.getSystemRuntime();
        // argv stays allocated for the whole mount: libfuse may keep pointers into it
        Pointer argv = Memory.allocateDirect(rt, (args.length + 1) * rt.addressSize(), true);
        List<Pointer> keep = new ArrayList<>();
        keep.add(argv);
        for (int i = 0; i < args.length; i++) {
            byte[] b = args[i].getBytes(StandardCharsets.UTF_8);
            Pointer s = Memory.allocateDirect(rt, b.length + 1, true);
            s.put(0, b, 0, b.length);
            keep.add(s);
            argv.putPointer((long) i * rt.addressSize(), s);
        }
        PointerByReference mountpoint = new PointerByReference();
        IntByReference multithreaded = new IntByReference();
        Pointer fuse = l.fuse_setup(args.length, argv, operations, operationsSize, mountpoint, multithreaded, null);
        if (fuse == null) {
            return 1;
        }
        int rc;
        try {
            Pointer se = l.fuse_get_session(fuse);
            Pointer ch = l.fuse_session_next_chan(se, null);
            long bufSize = l.fuse_chan_bufsize(ch);
            InitPatch patch = null;
            if (tuning.writebackCache()) {
                String problem = InitPatch.problem(se, ch);
                if (problem == null) {
                    patch = new InitPatch(tuning.maxWrite());
                } else {
                    refuseWriteback(fs, problem);
                }
            }
            if (patch != null) {
                bufSize = Math.max(bufSize, (long) tuning.maxWrite() + REQUEST_HEADROOM);
            }
            FuseLoop loop = new FuseLoop(se, ch, bufSize, threadName, mountpoint.getValue().getString(0),
                    tuning.readAhead(), tuning.dirtyShare(), patch, fs);
            rc = loop.serve();
        } finally {
            l.fuse_teardown(fuse, mountpoint.getValue());
        }
        keep.clear();
        return rc;
    }

    private int serve() {
        Thread invalidator = new Thread(this::invalidations, name + " invalidator");
        invalidator.setDaemon(true);
        invalidator.start();
        synchronized (workers) {
            for (int i = 0; i < INITIAL_WORKERS; i++) {
                startWorker();
            }
        }
        while (true) {
            Thread t;
            synchronized (workers) {
                t = workers.stream().filter(Thread::isAlive).findFirst().orElse(null);
            }
            if (t == null) {
                break;
            }
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Libfuse.lib().fuse_session_exit(session);
            }
        }
        try {
            invalidator.join(5000); // it sees the session exited within 200 ms, unless the kernel holds it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return failed ? 1 : 0;
    }

    /**
     * The invalidator thread: sends the invalidations the workers queued ({@link #invalidate}).
     * Not a worker: the kernel's invalidation may wait for page locks and write-backs of the node
     * that only workers can serve (a READ or WRITE request), so a worker that sent it itself could
     * block, and with every worker blocked so (a full pool refusing each write-back) nothing would
     * serve them: the mount hung in {@code invalidate_inode_pages2_range}.
     */
    private void invalidations() {
        Libfuse.Lib l = Libfuse.lib();
        while (l.fuse_session_exited(session) == 0) {
            Long id;
            try {
                id = toInvalidate.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (id == null) {
                continue;
            }
            queued.remove(id); // a refusal from now on queues it again
            invalidate(l, chan, id);
            if (queued.contains(id)) {
                nodeIds.stillPending(id); // queued again while this one was sent: requests wait for that one
            }
        }
        for (Long id = toInvalidate.poll(); id != null; id = toInvalidate.poll()) {
            nodeIds.invalidated(id); // unmounted: nothing to wait for
        }
    }

    /** Under the workers' lock. */
    private void startWorker() {
        if (workers.size() >= MAX_WORKERS) {
            return;
        }
        idle.incrementAndGet();
        Thread t = new Thread(this::work, name + " worker " + workers.size());
        t.setDaemon(true);
        workers.add(t);
        t.start();
    }

    private void work() {
        Libfuse.Lib l = Libfuse.lib();
        Runtime rt = Runtime.getSystemRuntime();
        Pointer buf = Memory.allocateDirect(rt, (int) bufSize, false);
        Pointer fbuf = Memory.allocateDirect(rt, BUF_STRUCT, true);
        Pointer chp = Memory.allocateDirect(rt, rt.addressSize(), true);
        Pointer reply = Memory.allocateDirect(rt, OUT_HEADER + WRITE_OUT, true);
        Pointer[] readReply = new Pointer[1]; // header and data of a READ reply, made at the first READ
        boolean byHandle = Boolean.parseBoolean(System.getProperty(BY_HANDLE_PROPERTY, "true"));
        while (l.fuse_session_exited(session) == 0) {
            fbuf.putLong(0, bufSize);
            fbuf.putInt(8, 0);
            fbuf.putPointer(16, buf);
            fbuf.putInt(24, 0);
            fbuf.putLong(32, 0);
            chp.putPointer(0, chan);
            int res = l.fuse_session_receive_buf(session, fbuf, chp);
            if (res == -EINTR) {
                continue;
            }
            if (res <= 0) {
                if (res < 0) {
                    // as fuse_loop_mt: a failed receive ends the session
                    LOG.error("FUSE receive failed: errno {}; ending the session", -res);
                    failed = true;
                    l.fuse_session_exit(session);
                }
                break;
            }
            boolean forget = false;
            int opcode = -1;
            if ((fbuf.getInt(8) & FUSE_BUF_IS_FD) == 0) {
                opcode = buf.getInt(4); // struct fuse_in_header { u32 len; u32 opcode; ... }
                forget = opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET;
            }
            if (opcode == FUSE_INIT && initPatch != null) {
                String problem = InitPatch.initBufferProblem(res, fbuf.getLong(0), buf.getInt(0), opcode);
                if (problem != null) {
                    refuseWriteback(fs, problem);
                    initPatch = null;
                }
            }
            if (opcode == FUSE_INIT && initPatch != null) {
                // The kernel sends nothing else before INIT is answered: no other reply can
                // pass through the swapped send.
                InitPatch patch = initPatch;
                Pointer ch = chp.getPointer(0);
                ReplyHook hook = Boolean.parseBoolean(System.getProperty(ReplyHook.PROPERTY, "true"))
                        ? new ReplyHook(patch.fd(ch), nodeIds) : null;
                patch.process(l, session, fbuf, chp, buf.getInt(INIT_IN_FLAGS),
                        () -> fs.initialized(patch.writebackGranted(), new StoreNotify(patch.fd(ch))), hook);
                replyHook = hook;
                initialized();
                continue;
            }
            if (opcode == FUSE_SETATTR && initPatch != null && setTimes(buf, chp.getPointer(0))) {
                continue;
            }
            long awaited = 0;
            if (forget) {
                forget(buf, opcode);
            } else if (namesItsFile(opcode)) {
                nodeIds.serving(buf.getLong(16));
                awaited = waitsForInvalidation(buf, opcode) ? buf.getLong(16) : 0;
            }
            // as fuse_loop_mt: the last idle worker taking a request starts another (forgets
            // do not count, so a burst of them starts none)
            if (!forget && idle.decrementAndGet() == 0) {
                synchronized (workers) {
                    startWorker();
                }
            }
            try {
                // not idle while it waits: another worker takes the requests the invalidation needs
                if (awaited != 0 && !nodeIds.awaitInvalidation(awaited, INVALIDATION_WAIT_MS)) {
                    LOG.warn("FUSE: node {}'s invalidation after a refused write is still pending after {} ms;"
                            + " answering opcode {} anyway", awaited, INVALIDATION_WAIT_MS, opcode);
                }
                ReplyHook hook = replyHook;
                if (hook != null) {
                    hook.serving(opcode);
                }
                if (!byHandle || !answerByHandle(opcode, buf, res, chp.getPointer(0), reply, readReply)) {
                    l.fuse_session_process_buf(session, fbuf, chp.getPointer(0));
                }
                if (opcode == FUSE_INIT) {
                    initialized();
                }
            } finally {
                ReplyHook hook = replyHook;
                if (hook != null) {
                    hook.serving(0);
                    nodeIds.takeAttributeInvalidations(); // a request without a reply sends none
                }
                nodeIds.serving(0);
                // after the reply (the kernel may hold a page lock of the node until then), by the
                // invalidator thread: the invalidation may wait for requests workers serve
                for (long id : nodeIds.takeInvalidations()) {
                    if (queued.add(id)) {
                        toInvalidate.add(id);
                    }
                }
                if (!forget) {
                    idle.incrementAndGet();
                }
            }
        }
    }

    /**
     * The INIT reply is processed (the kernel processes it while the reply is written): the
     * kernel's read-ahead of the mount can now be raised ({@link ReadAhead}), and its share of
     * dirty pages ({@link DirtyShare}; the kernel set it while processing the reply). No file is
     * open yet: the kernel queues every other request until INIT is answered.
     */
    private void initialized() {
        if (readAhead > 0) {
            ReadAhead.raise(mountpoint, readAhead);
        }
        if (dirtyShare > 0) {
            DirtyShare.raise(mountpoint, dirtyShare);
        }
    }

    /**
     * Answers a SETATTR that changes only times through {@link InterceptedRequests#setTimes} (by
     * the request's handle, else by its node id), writing the reply itself: the kernel's write-back
     * of the times it keeps, which libfuse 2 would fail with ENOENT for a file unlinked or
     * renamed over. Returns false, leaving the request to libfuse, for every other SETATTR and
     * for a file the adapter has not seen.
     */
    private boolean setTimes(Pointer req, Pointer ch) {
        int valid = req.getInt(IN_HEADER);
        if ((valid & ~TIMES_ONLY) != 0) {
            return false;
        }
        long unique = req.getLong(8);
        long fh = (valid & FATTR_FH) != 0 ? req.getLong(IN_HEADER + 8) : -1;
        long now = FuseAttr.nowNs();
        long atime = Long.MIN_VALUE;
        long mtime = Long.MIN_VALUE;
        if ((valid & FATTR_ATIME_NOW) != 0) {
            atime = now;
        } else if ((valid & FATTR_ATIME) != 0) {
            atime = req.getLong(IN_HEADER + 32) * 1_000_000_000L + req.getInt(IN_HEADER + 56);
        }
        if ((valid & FATTR_MTIME_NOW) != 0) {
            mtime = now;
        } else if ((valid & FATTR_MTIME) != 0) {
            mtime = req.getLong(IN_HEADER + 40) * 1_000_000_000L + req.getInt(IN_HEADER + 60);
        }
        TimesReply reply = fs.setTimes(fh, req.getLong(16), atime, mtime);
        if (reply == null) {
            return false; // neither the handle nor the node is known here: libfuse answers
        }
        int len = reply.error() == 0 ? OUT_HEADER + FuseAttr.ATTR_OUT_SIZE : OUT_HEADER;
        ByteBuffer out = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(len).putInt(Math.min(reply.error(), 0)).putLong(unique);
        if (reply.error() == 0) {
            reply.attr().writeAttrOut(out);
        }
        Runtime rt = Runtime.getSystemRuntime();
        Pointer p = Memory.allocateDirect(rt, len, false);
        p.put(0, out.array(), 0, len);
        // ENOENT: the request was interrupted meanwhile; nothing to do (as libfuse)
        LibC.get().write(initPatch.fd(ch), p, len);
        ANSWERED_TIMES.increment();
        return true;
    }

    /**
     * Answers a READ, WRITE, FSYNC or FLUSH itself (a FLUSH with ENOSYS, see below), with the INIT
     * patch in place: these name an open handle and need nothing of libfuse's (no path, no node of
     * its table), so the adapter's code ({@link InterceptedRequests#write} and the others) runs
     * on this thread without libfuse's path lookup, its copy of the bytes into or out of a buffer
     * of its own and the upcall into Java, and the reply is written here. Returns false, leaving
     * the request to libfuse, for other requests, without the patch, for a WRITE whose data is not
     * all in the buffer and for a READ larger than the buffer.
     *
     * @param received the request's length as read from the device
     * @param reply    this worker's buffer for the reply (header and {@code fuse_write_out})
     * @param readReply this worker's buffer for a READ reply (header and data), made at its first READ
     */
    private boolean answerByHandle(int opcode, Pointer req, int received, Pointer ch, Pointer reply,
                                   Pointer[] readReply) {
        InitPatch patch = initPatch;
        if (opcode != FUSE_READ && opcode != FUSE_WRITE && opcode != FUSE_FSYNC && opcode != FUSE_FLUSH
                || patch == null) {
            return false;
        }
        long fh = req.getLong(IN_HEADER);
        int rc;
        int len = OUT_HEADER;
        if (opcode == FUSE_READ) {
            long offset = req.getLong(IN_HEADER + 8);
            int size = req.getInt(IN_HEADER + 16);
            if (size < 0 || size > bufSize - OUT_HEADER) {
                return false;
            }
            if (readReply[0] == null) {
                readReply[0] = Memory.allocateDirect(Runtime.getSystemRuntime(), (int) bufSize, false);
            }
            reply = readReply[0];
            rc = fs.read(fh, reply.slice(OUT_HEADER, size), size, offset);
            ANSWERED_READS.increment();
            if (rc > 0) {
                len += rc;
                rc = 0;
            }
        } else if (opcode == FUSE_WRITE) {
            long offset = req.getLong(IN_HEADER + 8);
            int size = req.getInt(IN_HEADER + 16);
            if (size < 0 || IN_HEADER + WRITE_IN + (long) size > received) {
                return false;
            }
            rc = fs.write(fh, req.slice(IN_HEADER + WRITE_IN, size), size, offset);
            ANSWERED_WRITES.increment();
            if (rc >= 0) {
                reply.putInt(OUT_HEADER, rc);
                reply.putInt(OUT_HEADER + 4, 0);
                len += WRITE_OUT;
                rc = 0;
            }
        } else if (opcode == FUSE_FSYNC) {
            rc = fs.fsync(fh, (req.getInt(IN_HEADER + 8) & 1) != 0); // FUSE_FSYNC_FDATASYNC
            ANSWERED_FSYNCS.increment();
        } else {
            // Nothing to flush (writes reach the engine as they arrive, durability is fsync's), so
            // refused: the kernel then sends no FLUSH again for the mount's life (fc->no_flush) and
            // close(2) saves a round trip. It still writes the file's dirty pages back and waits
            // for them before close returns, and reports their errors, exactly as before.
            rc = -ENOSYS;
            ANSWERED_FLUSHES.increment();
        }
        reply.putInt(0, len);
        reply.putInt(4, Math.min(rc, 0));
        reply.putLong(8, req.getLong(8));
        // ENOENT: the request was interrupted meanwhile; nothing to do (as libfuse)
        LibC.get().write(patch.fd(ch), reply, len);
        return true;
    }

    /**
     * Drops the kernel's cached pages and attributes of node {@code id}
     * ({@code FUSE_NOTIFY_INVAL_INODE}): the engine refused or rolled back a write or truncate of
     * them, and the kernel may have kept the refused bytes or size. Called by the invalidator
     * thread ({@link #invalidations}) once the worker that served the request has had libfuse
     * write the reply, holding nothing: the kernel may wait for a page lock or a write-back of the
     * node, which the workers serve. The caller that saw the error was woken by the reply: until
     * the invalidation is sent, its next OPEN, FSYNC or GETATTR of the node waits
     * ({@link #waitsForInvalidation}), so it cannot reopen, sync or stat the file and then read the
     * refused bytes (a close sends no request: FLUSH is refused once and then never sent); only a
     * read through a descriptor it keeps open, racing this by microseconds, could.
     */
    private void invalidate(Libfuse.Lib l, Pointer ch, long id) {
        int rc;
        try {
            rc = l.fuse_lowlevel_notify_inval_inode(ch, id, 0, 0);
        } finally {
            nodeIds.invalidated(id);
        }
        INVALIDATIONS.increment();
        if (rc != 0 && rc != -ENOENT) {
            LOG.warn("FUSE: cannot invalidate the kernel's cache of node {} after a refused write: errno {}", id, -rc);
        } else {
            LOG.debug("FUSE: invalidated the kernel's cache of node {} (rc {})", id, rc);
        }
    }

    /** Logs (one line) and reports that the writeback cache was asked for and is not used. */
    private static void refuseWriteback(InterceptedRequests fs, String problem) {
        LOG.warn("FUSE: libfuse layout check failed ({}); mounting write-through, without the writeback cache"
                + " and 1 MiB requests", problem);
        fs.writebackRefused(problem);
    }

    /**
     * Whether a request of {@code opcode} waits for a pending invalidation of its node: OPEN
     * (without O_TRUNC, which the kernel sends holding off write-backs the invalidation may
     * need), FSYNC and GETATTR, which the kernel sends holding no page lock and not
     * holding off write-backs. Never READ, WRITE or SETATTR: the invalidation may wait for them.
     */
    private static boolean waitsForInvalidation(Pointer req, int opcode) {
        return opcode == FUSE_FSYNC || opcode == FUSE_GETATTR
                || opcode == FUSE_OPEN && (req.getInt(IN_HEADER) & O_TRUNC) == 0;
    }

    /** Request types whose header node id is the file the adapter's callback resolves. */
    private static boolean namesItsFile(int opcode) {
        return opcode == FUSE_GETATTR || opcode == FUSE_SETATTR || opcode == FUSE_OPEN || opcode == FUSE_WRITE
                || opcode == FUSE_FSYNC;
    }

    /** FORGET: {@code nodeid} in the header; BATCH_FORGET: {@code count}, then (nodeid, nlookup) pairs. */
    private void forget(Pointer req, int opcode) {
        if (opcode == FUSE_FORGET) {
            nodeIds.forget(req.getLong(16));
            return;
        }
        int count = req.getInt(IN_HEADER);
        for (int i = 0; i < count; i++) {
            nodeIds.forget(req.getLong(IN_HEADER + 8 + 16L * i));
        }
    }
}
