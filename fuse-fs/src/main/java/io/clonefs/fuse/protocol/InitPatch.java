package io.clonefs.fuse.protocol;

import io.clonefs.base.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that patches libfuse 2's private structures: rewrites the INIT reply libfuse
 * writes, on its way to {@code /dev/fuse}, to ask for the writeback cache and 1 MiB requests.
 *
 * <p>libfuse 2.9 speaks protocol 7.19 and never asks the kernel for {@code FUSE_WRITEBACK_CACHE}
 * or {@code FUSE_MAX_PAGES} (7.23/7.28), though the kernel honours both flags in any INIT reply
 * of protocol 7.6 or later. While libfuse processes the INIT request, the channel's {@code send}
 * is swapped for {@link #send}, which adds the two flags where the kernel offered them and raises
 * {@code max_write} and {@code max_pages} ({@link #rewrite}).
 *
 * <p>{@code struct fuse_chan} of libfuse 2.9 is private: it starts with
 * {@code struct fuse_chan_ops { receive; send; destroy; }}, then {@code se}, {@code int fd} and
 * {@code size_t bufsize}. {@link #problem} checks the library's version ({@code fuse_version()}
 * must be 29), compares each of those fields with what libfuse's public accessors
 * ({@code fuse_chan_session}, {@code fuse_chan_fd}, {@code fuse_chan_bufsize}) return, and checks
 * that the descriptor is {@code /dev/fuse}; {@link #initBufferProblem} checks the
 * {@code struct fuse_buf} the loop lays out by hand on the INIT request. If anything differs
 * there is no patch, and the mount runs at libfuse's own settings (write-through, 128 KiB
 * requests), which {@link FuseLoop} logs and reports.
 *
 * <p>Thread rules: {@link #process} runs on the one worker that received INIT; the kernel sends
 * nothing else before INIT is answered, so no other reply passes through the swapped send.
 */
final class InitPatch implements Libfuse.Send {
    private static final Logger LOG = LoggerFactory.getLogger(InitPatch.class);
    /** {@code FUSE_VERSION} of libfuse 2.9, the layout described above. */
    private static final int LIBFUSE_VERSION = 29;
    static final int SEND_OFFSET = 8;
    private static final int SESSION_OFFSET = 24;
    private static final int FD_OFFSET = 32;
    private static final int BUFSIZE_OFFSET = 40;
    private static final int OUT_HEADER = 16;
    /** struct fuse_init_out of protocol 7.28+: 64 bytes. */
    private static final int INIT_OUT = 64;
    static final int FUSE_WRITEBACK_CACHE = 1 << 16;
    static final int FUSE_MAX_PAGES = 1 << 22;
    static final int TIME_GRAN_NS = 1_000_000_000;
    private static final int PAGE = 4096;
    private static final int EIO = 5;
    private static final int FUSE_INIT = 26;
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final long FUSE_MAJOR = 10;
    private static final long FUSE_MINOR = 229;
    /** Fails the layout check on purpose: the mount then runs write-through (tests). */
    static final String SIMULATE_PROPERTY = "clonefs.fuse.simulateLayoutCheckFailure";

    private final int maxWrite;
    private final Runtime rt = Runtime.getSystemRuntime();
    private volatile int kernelFlags;
    /** The native closure of {@link #send}; freed when unreachable, so it is kept here. */
    private Pointer closure;
    /** Runs before the INIT reply is written ({@link #process}). */
    private volatile Runnable beforeReply;
    /** What the reply asked for, for the log and tests. */
    volatile int grantedFlags = -1;

    InitPatch(int maxWrite) {
        if (maxWrite < PAGE || maxWrite % PAGE != 0) {
            throw new IllegalArgumentException("max_write must be a multiple of 4096, not " + maxWrite);
        }
        this.maxWrite = maxWrite;
    }

    /**
     * Why the patch must not touch channel {@code ch} of {@code session}, or null if this libfuse
     * is the version whose private layout the patch knows, the channel looks like it, and its
     * descriptor is the FUSE device ({@link #notFuseDevice}). A check that cannot run counts as
     * failed. {@code -D}{@value #SIMULATE_PROPERTY}{@code =true} fails it on purpose (tests).
     */
    static String problem(Pointer session, Pointer ch) {
        if (Boolean.getBoolean(SIMULATE_PROPERTY)) {
            return "simulated by -D" + SIMULATE_PROPERTY;
        }
        try {
            Libfuse.Introspection l = Libfuse.load(Libfuse.Introspection.class);
            String mismatch = layoutMismatch(l, session, ch);
            return mismatch != null ? mismatch : notFuseDevice(l.fuse_chan_fd(ch));
        } catch (LinkageError | RuntimeException e) {
            return "cannot inspect libfuse: " + e;
        }
    }

    private static String layoutMismatch(Libfuse.Introspection l, Pointer session, Pointer ch) {
        int version = l.fuse_version();
        if (version != LIBFUSE_VERSION) {
            return "libfuse version " + version + ", the patch knows " + LIBFUSE_VERSION;
        }
        if (ch == null || ch.getPointer(SEND_OFFSET) == null) {
            return "no channel send function where expected";
        }
        Pointer se = ch.getPointer(SESSION_OFFSET);
        Pointer publicSe = l.fuse_chan_session(ch);
        if (se == null || publicSe == null || se.address() != publicSe.address()
                || se.address() != session.address()) {
            return "struct fuse_chan: session not at offset " + SESSION_OFFSET;
        }
        if (ch.getInt(FD_OFFSET) != l.fuse_chan_fd(ch)) {
            return "struct fuse_chan: fd not at offset " + FD_OFFSET;
        }
        if (ch.getLong(BUFSIZE_OFFSET) != l.fuse_chan_bufsize(ch)) {
            return "struct fuse_chan: bufsize not at offset " + BUFSIZE_OFFSET;
        }
        return null;
    }

    /**
     * Null if descriptor {@code fd} is the FUSE device (a character device 10:229, what
     * {@code fstat} of it says: a stat of {@code /proc/self/fd/N} follows the link to the open
     * file itself), else why not. The patch and the loop write replies to it directly.
     */
    static String notFuseDevice(int fd) {
        return notFuseDevice(Path.of("/proc/self/fd/" + fd), "channel fd " + fd);
    }

    /** As {@link #notFuseDevice(int)}, for the file {@code link} leads to, called {@code what}. */
    static String notFuseDevice(Path link, String what) {
        try {
            Map<String, Object> a = Files.readAttributes(link, "unix:mode,rdev");
            int mode = (Integer) a.get("mode");
            long rdev = (Long) a.get("rdev");
            long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
            long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
            if ((mode & S_IFMT) != S_IFCHR || major != FUSE_MAJOR || minor != FUSE_MINOR) {
                return what + " is not /dev/fuse (mode " + Integer.toOctalString(mode) + ", device "
                        + major + ":" + minor + ")";
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "cannot stat " + what + ": " + e.getMessage();
        }
    }

    /**
     * Null if the INIT request libfuse received looks as {@code struct fuse_buf} of libfuse 2.9
     * is laid out here ({@code size} where the loop reads it, equal to what the receive returned
     * and to the request's own length), else why not: the patch is then not applied.
     */
    static String initBufferProblem(int received, long bufSize, int requestLength, int opcode) {
        if (bufSize != received || requestLength != received || opcode != FUSE_INIT) {
            return "struct fuse_buf: received " + received + " bytes, buffer says " + bufSize + ", request "
                    + requestLength + " bytes of opcode " + opcode;
        }
        return null;
    }

    /** The {@code /dev/fuse} descriptor of channel {@code ch} (whose layout {@link #problem} checked). */
    int fd(Pointer ch) {
        return ch.getInt(FD_OFFSET);
    }

    /** Whether the INIT reply sent asked for the writeback cache. */
    boolean writebackGranted() {
        int g = grantedFlags;
        return g >= 0 && (g & FUSE_WRITEBACK_CACHE) != 0;
    }

    /**
     * Lets libfuse process the INIT request in {@code fbuf} with {@link #send} as the channel's
     * send; {@code beforeReply} runs once the reply is known ({@link #writebackGranted}) and
     * before it is written, so that nothing the kernel sends after INIT finds the filesystem
     * unaware of the outcome. Afterwards the channel's send is {@code after} (null: libfuse's own).
     */
    void process(Libfuse.Lib l, Pointer session, Pointer fbuf, Pointer chp, int offeredFlags, Runnable beforeReply,
                 ReplyHook after) {
        kernelFlags = offeredFlags;
        this.beforeReply = beforeReply;
        Pointer ch = chp.getPointer(0);
        Pointer original = ch.getPointer(SEND_OFFSET);
        closure = rt.getClosureManager().getClosurePointer(Libfuse.Send.class, this);
        ch.putPointer(SEND_OFFSET, closure);
        try {
            l.fuse_session_process_buf(session, fbuf, ch);
        } finally {
            // INIT is answered once this returns: the hook is in before any other reply goes out
            if (after != null) {
                after.install(ch);
            } else {
                ch.putPointer(SEND_OFFSET, original);
            }
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
            if (msg.length >= OUT_HEADER + 16 && le(msg).getInt(4) == 0) {
                grantedFlags = le(msg).getInt(OUT_HEADER + 12);
            }
            Runnable r = beforeReply;
            beforeReply = null;
            if (r != null) {
                r.run();
            }
            Pointer p = Memory.allocateDirect(rt, msg.length, false);
            p.put(0, msg, 0, msg.length);
            long n = LibC.get().write(ch.getInt(FD_OFFSET), p, msg.length);
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
        if (msg.length < OUT_HEADER + 24 || le(msg).getInt(4) != 0) {
            return msg;
        }
        byte[] out = new byte[OUT_HEADER + INIT_OUT];
        System.arraycopy(msg, 0, out, 0, Math.min(msg.length, out.length));
        ByteBuffer b = le(out);
        int flags = b.getInt(OUT_HEADER + 12);
        flags |= offered & FUSE_WRITEBACK_CACHE;
        if ((offered & FUSE_WRITEBACK_CACHE) != 0) {
            // time_gran: the kernel keeps mtime and ctime at whole seconds, so a file written
            // many times a second (a WAL) dirties its inode, and costs a SETATTR before the
            // next fsync, once a second instead of after every write
            b.putInt(OUT_HEADER + 24, TIME_GRAN_NS);
        }
        if ((offered & FUSE_MAX_PAGES) != 0) {
            flags |= FUSE_MAX_PAGES;
            b.putShort(OUT_HEADER + 28, (short) (maxWrite / PAGE));
            b.putInt(OUT_HEADER + 20, maxWrite);
        }
        b.putInt(OUT_HEADER + 12, flags);
        b.putInt(0, out.length);
        return out;
    }

    /** Little-endian view (x86-64 and arm64 are little-endian, as is the FUSE protocol there). */
    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
