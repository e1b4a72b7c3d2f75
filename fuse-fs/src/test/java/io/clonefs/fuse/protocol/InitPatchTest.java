package io.clonefs.fuse.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The rewrite of libfuse 2's INIT reply ({@link InitPatch#rewrite}), byte by byte. */
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
}
