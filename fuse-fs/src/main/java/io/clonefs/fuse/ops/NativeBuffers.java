package io.clonefs.fuse.ops;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import jnr.ffi.Pointer;

/** Views of libfuse's native buffers as ByteBuffers, without copying when the memory is direct. */
final class NativeBuffers {
    private NativeBuffers() {
    }

    /** A buffer to read into; {@link #copyBack} completes it for non-direct memory. */
    static ByteBuffer wrap(Pointer p, int len) {
        if (p.isDirect()) {
            return MemoryIO.getInstance().newDirectByteBuffer(p.address(), len);
        }
        return ByteBuffer.allocate(len);
    }

    static void copyBack(ByteBuffer dst, Pointer p, int len) {
        if (!p.isDirect()) {
            p.put(0, dst.array(), 0, len);
        }
    }

    /** The {@code len} bytes at {@code p}, as a buffer to write from. */
    static ByteBuffer readable(Pointer p, int len) {
        if (p.isDirect()) {
            return MemoryIO.getInstance().newDirectByteBuffer(p.address(), len);
        }
        byte[] b = new byte[len];
        p.get(0, b, 0, len);
        return ByteBuffer.wrap(b);
    }
}
