package io.clonefs.fuse.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rewrite of libfuse 2's INIT reply ({@link InitPatch#rewrite}), byte by byte, and the
 * fence checks that do not need a mount (the device check, the INIT buffer check, the simulated
 * failure; a mount with the fallback is {@code WriteThroughFallbackIT}).
 */
class InitPatchTest {
    private static final int WB = InitPatch.FUSE_WRITEBACK_CACHE;
    private static final int MAX_PAGES = InitPatch.FUSE_MAX_PAGES;
    private static final int BIG_WRITES = 1 << 5;

    /** A reply as libfuse 2.9 writes it: fuse_out_header + the 24-byte fuse_init_out of 7.19. */
    private static byte[] libfuseReply(int error) {
        ByteBuffer b = ByteBuffer.allocate(16 + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(40).putInt(error).putLong(77L);
        b.putInt(7).putInt(19).putInt(131072).putInt(BIG_WRITES).putShort((short) 12).putShort((short) 9)
                .putInt(131072);
        return b.array();
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void asksForWritebackAndMaxPagesWhenTheKernelOffersThem() {
        byte[] out = InitPatch.rewrite(libfuseReply(0), WB | MAX_PAGES | BIG_WRITES, 1 << 20);
        ByteBuffer b = le(out);
        assertEquals(16 + 64, out.length);
        assertEquals(80, b.getInt(0), "header length");
        assertEquals(0, b.getInt(4));
        assertEquals(77L, b.getLong(8), "unique kept");
        assertEquals(7, b.getInt(16));
        assertEquals(19, b.getInt(20), "minor kept: libfuse 2 parses 7.19 requests");
        assertEquals(BIG_WRITES | WB | MAX_PAGES, b.getInt(16 + 12));
        assertEquals(12, b.getShort(16 + 16), "max_background kept");
        assertEquals(1 << 20, b.getInt(16 + 20), "max_write");
        assertEquals(256, b.getShort(16 + 28), "max_pages");
        assertEquals(1_000_000_000, b.getInt(16 + 24), "time_gran: whole seconds");
    }

    @Test
    void asksForNothingTheKernelDidNotOffer() {
        ByteBuffer b = le(InitPatch.rewrite(libfuseReply(0), BIG_WRITES, 1 << 20));
        assertEquals(BIG_WRITES, b.getInt(16 + 12));
        assertEquals(131072, b.getInt(16 + 20), "max_write unchanged without FUSE_MAX_PAGES");
        assertEquals(0, b.getShort(16 + 28));
        assertEquals(0, b.getInt(16 + 24), "time_gran left to the kernel without the writeback cache");
        b = le(InitPatch.rewrite(libfuseReply(0), WB, 1 << 20));
        assertEquals(BIG_WRITES | WB, b.getInt(16 + 12));
    }

    @Test
    void errorRepliesAndShortRepliesPassUnchanged() {
        byte[] err = libfuseReply(-71);
        assertArrayEquals(err, InitPatch.rewrite(err, WB | MAX_PAGES, 1 << 20));
        byte[] tiny = new byte[20];
        assertArrayEquals(tiny, InitPatch.rewrite(tiny, WB | MAX_PAGES, 1 << 20));
    }

    @Test
    void maxWriteMustBeWholePages() {
        assertThrows(IllegalArgumentException.class, () -> new InitPatch(1000));
        assertThrows(IllegalArgumentException.class, () -> new InitPatch(4096 + 512));
    }

    @Test
    void onlyTheFuseCharacterDeviceIsTheFuseDevice(@TempDir Path dir) throws Exception {
        Path plain = Files.writeString(dir.resolve("f"), "x");
        assertTrue(InitPatch.notFuseDevice(plain, "f").contains("is not /dev/fuse"), "a regular file");
        String devNull = InitPatch.notFuseDevice(Path.of("/dev/null"), "/dev/null");
        assertTrue(devNull.contains("device 1:3"), devNull);
        assertTrue(InitPatch.notFuseDevice(dir.resolve("missing"), "missing").startsWith("cannot stat missing"));
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "needs /dev/fuse");
        assertNull(InitPatch.notFuseDevice(Path.of("/dev/fuse"), "/dev/fuse"));
    }

    @Test
    void initBufferMustAgreeWithWhatWasReceived() {
        assertNull(InitPatch.initBufferProblem(104, 104, 104, 26));
        assertTrue(InitPatch.initBufferProblem(104, 1 << 20, 104, 26).startsWith("struct fuse_buf"));
        assertTrue(InitPatch.initBufferProblem(104, 104, 56, 26).startsWith("struct fuse_buf"));
        assertTrue(InitPatch.initBufferProblem(104, 104, 104, 3).startsWith("struct fuse_buf"));
    }

    @Test
    void aSimulatedFailureNeedsNoLibfuse() {
        System.setProperty(InitPatch.SIMULATE_PROPERTY, "true");
        try {
            assertEquals("simulated by -D" + InitPatch.SIMULATE_PROPERTY, InitPatch.problem(null, null));
        } finally {
            System.clearProperty(InitPatch.SIMULATE_PROPERTY);
        }
    }
}
