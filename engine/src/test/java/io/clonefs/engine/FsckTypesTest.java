package io.clonefs.engine;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.metadata.InodeRecord;
import org.junit.jupiter.api.Test;

/** fsck's check of an inode record's type, size and tail ({@link Fsck#typeProblem}). */
class FsckTypesTest {
    private static InodeRecord record(int mode, long size, byte[] tail) {
        InodeRecord r = new InodeRecord();
        r.mode = mode;
        r.size = size;
        r.nlink = 1;
        r.target = tail;
        return r;
    }

    private static void flagged(InodeRecord r, String mention) {
        String p = Fsck.typeProblem(7, r);
        assertTrue(p != null && p.contains(mention), "expected a problem naming '" + mention + "', got " + p);
    }

    @Test
    void rightRecordsPass() {
        assertNull(Fsck.typeProblem(7, record(0100644, 10, new byte[0])));
        assertNull(Fsck.typeProblem(7, record(0040755, 0, new byte[0])));
        assertNull(Fsck.typeProblem(7, record(0120777, 3, new byte[] {'a', 'b', 'c'})));
        assertNull(Fsck.typeProblem(7, record(0010644, 0, new byte[0])));
        assertNull(Fsck.typeProblem(7, record(0140755, 0, new byte[0])));
        assertNull(Fsck.typeProblem(7, record(0020666, 0, InodeTable.rdevBytes(259))));
        assertNull(Fsck.typeProblem(7, record(0060660, 0, InodeTable.rdevBytes(0x800))));
    }

    @Test
    void wrongRecordsAreFlagged() {
        flagged(record(0070644, 0, new byte[0]), "unknown type");
        flagged(record(0010644, 5, new byte[0]), "size 5");
        flagged(record(0020666, 0, new byte[0]), "tail of 0 bytes");
        flagged(record(0060660, 0, new byte[4]), "tail of 4 bytes");
        flagged(record(0140755, 0, new byte[8]), "tail of 8 bytes");
        flagged(record(0100644, 0, new byte[8]), "tail of 8 bytes");
        flagged(record(0120777, 0, new byte[0]), "tail of 0 bytes");
        flagged(record(0120777, 9, new byte[] {'a'}), "size 9");
    }
}
