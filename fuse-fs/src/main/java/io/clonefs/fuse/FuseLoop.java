package io.clonefs.fuse;

import io.clonefs.base.LibC;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libfuse 2's request loop, run on Java threads that live as long as the mount.
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
 * {@code /dev/fuse} ({@link InitPatch}): the two flags are added when the kernel offered them,
 * {@code max_write} and {@code max_pages} are raised to {@link Tuning#maxWrite}, and the receive
 * buffers are sized for it. The kernel then keeps written pages in its page cache, owns file
 * size and mtime (so {@code lseek(SEEK_END)} and {@code stat} after a write need no round trip),
 * writes dirty pages back in requests of up to 1 MiB, and flushes them on {@code fsync},
 * {@code close} and {@code syncfs}. Errors of a write-back (EIO, ENOSPC) surface from
 * {@code fsync} and {@code close}, as on any filesystem with a page cache.
 *
 * <p>The loop ends when the kernel closes the connection (unmount): every blocked receive then
 * returns 0. Thread rules: {@link #run} blocks its caller until then.
 */
final class FuseLoop {
    private static final Logger LOG = LoggerFactory.getLogger(FuseLoop.class);
    /** More workers than this wait in the kernel's queue instead. */
    static final int MAX_WORKERS = 64;
    private static final int INITIAL_WORKERS = 4;
    private static final int EINTR = 4;
    private static final int FUSE_FORGET = 2;
    private static final int FUSE_BATCH_FORGET = 42;
    private static final int FUSE_INIT = 26;
    private static final int FUSE_SETATTR = 4;
    private static final int FUSE_GETATTR = 3;
    private static final int FUSE_OPEN = 14;
    private static final int FUSE_WRITE = 16;
    private static final int FUSE_FSYNC = 20;
    private static final int FUSE_FLUSH = 25;
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
    private static final int CHAN_FD_OFFSET = 32;
    /** struct fuse_in_header is 40 bytes; fuse_init_in's flags follow major, minor, max_readahead. */
    private static final int IN_HEADER = 40;
    private static final int INIT_IN_FLAGS = IN_HEADER + 12;
    /** Bytes a request carries besides its data (fuse_in_header + fuse_write_in, with margin). */
    private static final int REQUEST_HEADROOM = 4096;
    private static final int FUSE_BUF_IS_FD = 1 << 1;
    /** struct fuse_buf { size_t size; enum flags; void *mem; int fd; off_t pos; } on LP64. */
    private static final int BUF_STRUCT = 40;

    /** The libfuse 2.9 calls {@code fuse_main} makes, one by one. */
    public interface Lib {
        Pointer fuse_setup(int argc, Pointer argv, Pointer op, long opSize, PointerByReference mountpoint,
                           IntByReference multithreaded, Pointer userData);

        void fuse_teardown(Pointer fuse, Pointer mountpoint);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer se, Pointer ch);

        long fuse_chan_bufsize(Pointer ch);

        int fuse_session_receive_buf(Pointer se, Pointer buf, Pointer chp);

        void fuse_session_process_buf(Pointer se, Pointer buf, Pointer ch);

        int fuse_session_exited(Pointer se);

        void fuse_session_exit(Pointer se);
    }

    /** How the mount is tuned beyond libfuse 2's own options. */
    record Tuning(boolean writebackCache, int maxWrite) {
        static final Tuning LIBFUSE_DEFAULTS = new Tuning(false, 0);
    }

    /** libfuse 2's {@code fuse_chan_ops.send}: {@code int (*)(struct fuse_chan *, const struct iovec *, size_t)}. */
    public interface Send {
        @Delegate
        int send(Pointer ch, Pointer iov, long count);
    }

    private static volatile Lib lib;

    private static Lib lib() {
        Lib l = lib;
        if (l == null) {
            try {
                l = LibraryLoader.create(Lib.class).failImmediately().load("libfuse.so.2");
            } catch (LinkageError e) {
                l = LibraryLoader.create(Lib.class).failImmediately().load("fuse");
            }
            lib = l;
        }
        return l;
    }

    private final Pointer session;
    private final Pointer chan;
    private final long bufSize;
    private final String name;
    private final InitPatch initPatch;
    private final ClonefsFuse fs;
    private final AtomicInteger idle = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean failed;

    private FuseLoop(Pointer session, Pointer chan, long bufSize, String name, InitPatch initPatch,
                     ClonefsFuse fs) {
        this.fs = fs;
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
     */
    static int run(String[] args, Pointer operations, long operationsSize, String threadName, Tuning tuning,
                   ClonefsFuse fs) {
        Lib l = lib();
        Runtime rt = Runtime.getSystemRuntime();
        // argv stays allocated for the whole mount: libfuse may keep pointers into it
        Pointer argv = Memory.allocateDirect(rt, (args.length + 1) * rt.addressSize(), true);
        List<Pointer> keep = new ArrayList<>();
        keep.add(argv);
        for (int i = 0; i < args.length; i++) {
            byte[] b = args[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
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
                patch = new InitPatch(tuning.maxWrite());
                bufSize = Math.max(bufSize, (long) tuning.maxWrite() + REQUEST_HEADROOM);
            }
            FuseLoop loop = new FuseLoop(se, ch, bufSize, threadName, patch, fs);
            rc = loop.serve();
        } finally {
            l.fuse_teardown(fuse, mountpoint.getValue());
        }
        keep.clear();
        return rc;
    }

    private int serve() {
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
                lib().fuse_session_exit(session);
            }
        }
        return failed ? 1 : 0;
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
        Lib l = lib();
        Runtime rt = Runtime.getSystemRuntime();
        Pointer buf = Memory.allocateDirect(rt, (int) bufSize, false);
        Pointer fbuf = Memory.allocateDirect(rt, BUF_STRUCT, true);
        Pointer chp = Memory.allocateDirect(rt, rt.addressSize(), true);
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
                // The kernel sends nothing else before INIT is answered: no other reply can
                // pass through the swapped send.
                initPatch.process(l, session, fbuf, chp, buf.getInt(INIT_IN_FLAGS));
                fs.kernelKeepsTimes(initPatch.writebackGranted());
                continue;
            }
            if (initPatch != null) {
                if (opcode == FUSE_SETATTR && setTimes(buf, chp.getPointer(0))) {
                    continue;
                }
                if (forget) {
                    forget(buf, opcode);
                } else if (namesItsFile(opcode)) {
                    fs.nodeIds().serving(buf.getLong(16));
                }
            }
            // as fuse_loop_mt: the last idle worker taking a request starts another (forgets
            // do not count, so a burst of them starts none)
            if (!forget && idle.decrementAndGet() == 0) {
                synchronized (workers) {
                    startWorker();
                }
            }
            try {
                l.fuse_session_process_buf(session, fbuf, chp.getPointer(0));
            } finally {
                if (initPatch != null) {
                    fs.nodeIds().serving(0);
                }
                if (!forget) {
                    idle.incrementAndGet();
                }
            }
        }
    }

    /**
     * Answers a SETATTR that changes only times through {@link ClonefsFuse#setTimes} (by the
     * request's handle, else by its node id), writing the reply itself: the kernel's write-back
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
        long now = ClonefsFuse.nowNanos();
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
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(16 + ClonefsFuse.ATTR_OUT_SIZE)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.position(16);
        int rc = fs.setTimes(fh, req.getLong(16), atime, mtime, out);
        if (rc > 0) {
            return false; // neither the handle nor the node is known here: libfuse answers
        }
        int len = rc == 0 ? out.capacity() : 16;
        out.putInt(0, len).putInt(4, Math.min(rc, 0)).putLong(8, unique);
        Runtime rt = Runtime.getSystemRuntime();
        Pointer p = Memory.allocateDirect(rt, len, false);
        p.put(0, out.array(), 0, len);
        // ENOENT: the request was interrupted meanwhile; nothing to do (as libfuse)
        libc().write(ch.getInt(CHAN_FD_OFFSET), p, len);
        return true;
    }

    /** Request types whose header node id is the file the adapter's callback resolves. */
    private static boolean namesItsFile(int opcode) {
        return opcode == FUSE_GETATTR || opcode == FUSE_OPEN || opcode == FUSE_WRITE || opcode == FUSE_FSYNC
                || opcode == FUSE_FLUSH;
    }

    /** FORGET: {@code nodeid} in the header; BATCH_FORGET: {@code count}, then (nodeid, nlookup) pairs. */
    private void forget(Pointer req, int opcode) {
        if (opcode == FUSE_FORGET) {
            fs.nodeIds().forget(req.getLong(16));
            return;
        }
        int count = req.getInt(IN_HEADER);
        for (int i = 0; i < count; i++) {
            fs.nodeIds().forget(req.getLong(IN_HEADER + 8 + 16L * i));
        }
    }

    private static LibC libc() {
        return LibC.get();
    }

    /**
     * Rewrites libfuse 2's INIT reply: swaps the channel's {@code send} for {@link #send} while
     * libfuse processes the INIT request. {@code struct fuse_chan} of libfuse 2.9 starts with
     * {@code struct fuse_chan_ops { receive; send; destroy; }}, then {@code se} and {@code int fd}.
     */
    static final class InitPatch implements Send {
        private static final int SEND_OFFSET = 8;
        private static final int FD_OFFSET = 32;
        private static final int OUT_HEADER = 16;
        /** struct fuse_init_out of protocol 7.28+: 64 bytes. */
        private static final int INIT_OUT = 64;
        static final int FUSE_WRITEBACK_CACHE = 1 << 16;
        static final int FUSE_MAX_PAGES = 1 << 22;
        static final int TIME_GRAN_NS = 1_000_000_000;
        private static final int PAGE = 4096;
        private static final int EIO = 5;

        private final int maxWrite;
        private final Runtime rt = Runtime.getSystemRuntime();
        private volatile int kernelFlags;
        /** The native closure of {@link #send}; freed when unreachable, so it is kept here. */
        private Pointer closure;
        /** What the reply asked for, for the log and tests. */
        volatile int grantedFlags = -1;

        InitPatch(int maxWrite) {
            if (maxWrite < PAGE || maxWrite % PAGE != 0) {
                throw new IllegalArgumentException("max_write must be a multiple of 4096, not " + maxWrite);
            }
            this.maxWrite = maxWrite;
        }

        /** Whether the INIT reply sent asked for the writeback cache. */
        boolean writebackGranted() {
            int g = grantedFlags;
            return g >= 0 && (g & FUSE_WRITEBACK_CACHE) != 0;
        }

        void process(Lib l, Pointer session, Pointer fbuf, Pointer chp, int offeredFlags) {
            kernelFlags = offeredFlags;
            Pointer ch = chp.getPointer(0);
            Pointer original = ch.getPointer(SEND_OFFSET);
            closure = rt.getClosureManager().getClosurePointer(Send.class, this);
            ch.putPointer(SEND_OFFSET, closure);
            try {
                l.fuse_session_process_buf(session, fbuf, ch);
            } finally {
                ch.putPointer(SEND_OFFSET, original);
            }
            if (grantedFlags >= 0) {
                LOG.info("FUSE INIT: writeback cache {}, requests up to {} KiB",
                        (grantedFlags & FUSE_WRITEBACK_CACHE) != 0 ? "on" : "not offered by the kernel",
                        (grantedFlags & FUSE_MAX_PAGES) != 0 ? maxWrite / 1024 : 128);
            }
        }

        @Override
        public int send(Pointer ch, Pointer iov, long count) {
            try {
                byte[] msg = rewrite(gather(iov, count), kernelFlags, maxWrite);
                if (msg.length >= OUT_HEADER + 16 && ByteOrderInts.getInt(msg, 4) == 0) {
                    grantedFlags = ByteOrderInts.getInt(msg, OUT_HEADER + 12);
                }
                Pointer p = Memory.allocateDirect(rt, msg.length, false);
                p.put(0, msg, 0, msg.length);
                long n = libc().write(ch.getInt(FD_OFFSET), p, msg.length);
                return n == msg.length ? 0 : -EIO;
            } catch (RuntimeException e) {
                LOG.error("FUSE INIT reply could not be sent", e);
                return -EIO;
            }
        }

        private byte[] gather(Pointer iov, long count) {
            int total = 0;
            for (int i = 0; i < count; i++) {
                total += (int) iov.getLong(i * 16L + 8);
            }
            byte[] out = new byte[total];
            int at = 0;
            for (int i = 0; i < count; i++) {
                Pointer base = iov.getPointer(i * 16L);
                int len = (int) iov.getLong(i * 16L + 8);
                if (len > 0) {
                    base.get(0, out, at, len);
                }
                at += len;
            }
            return out;
        }

        /**
         * The INIT reply {@code msg} (fuse_out_header + fuse_init_out as libfuse 2 wrote it),
         * extended to the 64-byte fuse_init_out with the writeback cache and {@code max_pages}
         * asked for where {@code offered} (the kernel's INIT flags) has them. An error reply
         * or anything shorter than a 7.6 reply goes out unchanged.
         */
        static byte[] rewrite(byte[] msg, int offered, int maxWrite) {
            if (msg.length < OUT_HEADER + 24 || ByteOrderInts.getInt(msg, 4) != 0) {
                return msg;
            }
            byte[] out = new byte[OUT_HEADER + INIT_OUT];
            System.arraycopy(msg, 0, out, 0, Math.min(msg.length, out.length));
            int flags = ByteOrderInts.getInt(out, OUT_HEADER + 12);
            flags |= offered & FUSE_WRITEBACK_CACHE;
            if ((offered & FUSE_WRITEBACK_CACHE) != 0) {
                // time_gran: the kernel keeps mtime and ctime at whole seconds, so a file written
                // many times a second (a WAL) dirties its inode, and costs a SETATTR before the
                // next fsync, once a second instead of after every write
                ByteOrderInts.putInt(out, OUT_HEADER + 24, TIME_GRAN_NS);
            }
            if ((offered & FUSE_MAX_PAGES) != 0) {
                flags |= FUSE_MAX_PAGES;
                ByteOrderInts.putShort(out, OUT_HEADER + 28, maxWrite / PAGE);
                ByteOrderInts.putInt(out, OUT_HEADER + 20, maxWrite);
            }
            ByteOrderInts.putInt(out, OUT_HEADER + 12, flags);
            ByteOrderInts.putInt(out, 0, out.length);
            return out;
        }
    }

    /** Little-endian ints in byte arrays (x86-64 and arm64 are little-endian). */
    static final class ByteOrderInts {
        private ByteOrderInts() {
        }

        static int getInt(byte[] b, int at) {
            return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(at);
        }

        static void putInt(byte[] b, int at, int v) {
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        }

        static void putShort(byte[] b, int at, int v) {
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort(at, (short) v);
        }
    }
}
