package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MountsTest {
    @Test
    void findsTheRootMount() {
        assertTrue(Mounts.find(java.nio.file.Path.of("/")).isPresent());
    }
}
