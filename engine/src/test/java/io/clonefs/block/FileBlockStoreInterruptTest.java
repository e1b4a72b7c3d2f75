package io.clonefs.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.BlockId;
import io.clonefs.base.FileChannels;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread interrupted while it writes or syncs the block store (a scheduler stopped with
 * {@code shutdownNow} mid-snapshot) must not close the block files for everyone else: with an
 * interruptible channel the next read fails with {@code ClosedChannelException}.
 */
class FileBlockStoreInterruptTest {
    @TempDir
    Path dir;

    @Test
    void anInterruptedWriterLeavesTheBlockFilesOpen() {
        assertTrue(FileChannels.available(), "the test JVM runs with --add-opens java.base/sun.nio.ch");
        FileBlockStore store = FileBlockStore.open(dir, 4096, 0, new long[0]);
        try {
            BlockId a = store.allocate();
            byte[] data = new byte[4096];
            Arrays.fill(data, (byte) 7);
            Thread.currentThread().interrupt();
            try {
                store.write(a, 0, ByteBuffer.wrap(data));
                store.sync();
            } finally {
                Thread.interrupted(); // clear it
            }
            ByteBuffer back = ByteBuffer.allocate(4096);
            store.read(a, 0, back); // another caller, not interrupted
            assertArrayEquals(data, back.array());
            BlockId b = store.allocate();
            store.write(b, 0, ByteBuffer.wrap(data));
            store.sync();
        } finally {
            store.close();
        }
    }
}
