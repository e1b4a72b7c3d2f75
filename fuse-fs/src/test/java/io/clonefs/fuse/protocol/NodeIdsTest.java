package io.clonefs.fuse.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The node ids of a hard-linked file's names, as the reply hook learns and forgets them. */
class NodeIdsTest {
    private static long[] sorted(long[] a) {
        long[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

    @Test
    void aChangeThroughOneNameInvalidatesEveryOtherNameOfTheFileOnce() {
        NodeIds<String> ids = new NodeIds<>();
        ids.entryReplied(10, 7); // a
        ids.entryReplied(11, 7); // b, a link of a
        ids.entryReplied(12, 8); // another file
        ids.entryReplied(10, 7); // a looked up again
        assertEquals(2, ids.names(7));

        ids.serving(11); // e.g. a chmod through b: b's reply carries the new attributes
        ids.attributesChanged(7);
        ids.attributesChanged(7);
        assertArrayEquals(new long[] {10}, ids.takeAttributeInvalidations());
        assertArrayEquals(new long[0], ids.takeAttributeInvalidations(), "taken once");

        ids.serving(0); // a link or unlink names no file of its own
        ids.attributesChanged(7);
        assertArrayEquals(new long[] {10, 11}, sorted(ids.takeAttributeInvalidations()));
        ids.attributesChanged(9);
        assertArrayEquals(new long[0], ids.takeAttributeInvalidations(), "a file the kernel does not know");
    }

    @Test
    void aForgottenOrReusedNodeIdNoLongerNamesTheFile() {
        NodeIds<String> ids = new NodeIds<>();
        ids.entryReplied(10, 7);
        ids.entryReplied(11, 7);
        ids.forget(10);
        assertEquals(1, ids.names(7));
        ids.entryReplied(11, 8); // libfuse handed id 11 out again for another file
        assertEquals(0, ids.names(7));
        assertEquals(1, ids.names(8));
        ids.attributesChanged(7);
        assertArrayEquals(new long[0], ids.takeAttributeInvalidations());
    }
}
