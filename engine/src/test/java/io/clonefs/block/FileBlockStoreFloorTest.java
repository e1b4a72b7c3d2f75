package io.clonefs.block;

import io.clonefs.base.BlockId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.base.ClonefsException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The free-space floor: new blocks never take the disk's last bytes, which metadata needs. */
class FileBlockStoreFloorTest {
    @TempDir
    Path dir;

    @Test
    void newBlocksAreRefusedBelowTheFloorFreedBlocksAreNot() throws Exception {
        int bs = 8192;
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), bs, 0, new long[0])) {
            BlockId a = s.allocate();
            s.write(a, 0, ByteBuffer.wrap(new byte[bs]));
            s.free(a);
            long free = Files.getFileStore(dir).getUsableSpace();
            // a floor above what the disk has free: a freed block (its place on disk is kept) is
            // handed out again, but no new block
            s.setFreeSpaceFloor(free + (1L << 30));
            assertEquals(a, s.allocate());
            ClonefsException.NoSpace e = assertThrows(ClonefsException.NoSpace.class, s::allocate);
            assertTrue(e.getMessage().contains("kept for metadata"), e.getMessage());
            assertThrows(ClonefsException.NoSpace.class, s::allocate);
            assertEquals(1, s.highWater(), "a refused allocation moves nothing");
            // the floor lifted: new blocks again
            s.setFreeSpaceFloor(0);
            assertEquals(new BlockId(1), s.allocate());
        }
    }

    @Test
    void aFloorTheDiskIsFarAboveLetsAllocationGoOn() throws Exception {
        int bs = 8192;
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("blocks"), bs, 0, new long[0])) {
            long free = Files.getFileStore(dir).getUsableSpace();
            s.setFreeSpaceFloor(free / 2);
            for (int i = 0; i < 1000; i++) {
                assertEquals(new BlockId(i), s.allocate());
            }
        }
    }
}
