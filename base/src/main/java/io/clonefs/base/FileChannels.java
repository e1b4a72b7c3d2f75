package io.clonefs.base;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * File channels that a thread interrupt does not close. A {@link FileChannel} is an interruptible
 * channel: a thread interrupted while it reads, writes or forces one closes it for every other
 * thread too ({@code ClosedByInterruptException}), so one interrupted background task (a scheduler
 * stopped with {@code shutdownNow} while it synced the pool) would fail every later read and write
 * of that block file until the pool is reopened. The JDK's own channel has
 * {@code setUninterruptible()} for that (its zip file system uses it); it is reached by reflection
 * through the {@code --add-opens java.base/sun.nio.ch} every clonefs JVM runs with (lmdbjava needs
 * it too). Without that access the channel stays as it is, and a warning says so once.
 */
public final class FileChannels {
    private static final Method UNINTERRUPTIBLE = find();
    private static volatile boolean warned;

    private FileChannels() {
    }

    private static Method find() {
        try {
            Method m = Class.forName("sun.nio.ch.FileChannelImpl").getMethod("setUninterruptible");
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** {@link FileChannel#open(Path, OpenOption...)}, made uninterruptible. */
    public static FileChannel open(Path p, OpenOption... options) throws IOException {
        return uninterruptible(FileChannel.open(p, options));
    }

    /** Makes {@code ch} uninterruptible where the JDK allows it; returns it. */
    public static FileChannel uninterruptible(FileChannel ch) {
        if (UNINTERRUPTIBLE != null && UNINTERRUPTIBLE.getDeclaringClass().isInstance(ch)) {
            try {
                UNINTERRUPTIBLE.invoke(ch);
                return ch;
            } catch (ReflectiveOperationException | RuntimeException e) {
                // fall through to the warning
            }
        }
        if (!warned) {
            warned = true;
            System.err.println("clonefs: file channels stay interruptible (run the JVM with --add-opens "
                    + "java.base/sun.nio.ch=ALL-UNNAMED)");
        }
        return ch;
    }

    /** Whether {@link #uninterruptible} works in this JVM. */
    public static boolean available() {
        return UNINTERRUPTIBLE != null;
    }
}
