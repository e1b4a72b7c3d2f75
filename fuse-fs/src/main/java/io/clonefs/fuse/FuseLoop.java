package io.clonefs.fuse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
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
    private final AtomicInteger idle = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean failed;

    private FuseLoop(Pointer session, Pointer chan, long bufSize, String name) {
        this.session = session;
        this.chan = chan;
        this.bufSize = bufSize;
        this.name = name;
    }

    /**
     * Mounts with {@code args} (as for {@code fuse_main}) and serves requests until the unmount.
     * Returns 0 after a clean unmount, 1 if libfuse could not mount or a receive failed.
     *
     * @param operations the {@code struct fuse_operations} (jnr-fuse's)
     */
    static int run(String[] args, Pointer operations, long operationsSize, String threadName) {
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
            FuseLoop loop = new FuseLoop(se, ch, l.fuse_chan_bufsize(ch), threadName);
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
            if ((fbuf.getInt(8) & FUSE_BUF_IS_FD) == 0) {
                int opcode = buf.getInt(4); // struct fuse_in_header { u32 len; u32 opcode; ... }
                forget = opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET;
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
                if (!forget) {
                    idle.incrementAndGet();
                }
            }
        }
    }
}
