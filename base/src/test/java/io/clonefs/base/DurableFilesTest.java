package io.clonefs.base;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableFilesTest {
    @TempDir
    Path dir;

    @Test
    void replacesTheWholeFileOwnerOnlyAndLeavesNoTemporaryFile() throws Exception {
        Path f = dir.resolve("state.json");
        DurableFiles.writePrivate(f, "first, longer content".getBytes(StandardCharsets.UTF_8));
        DurableFiles.writePrivate(f, "second".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals("second".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(f));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertFalse(Files.exists(dir.resolve(".state.json.tmp")));
        byte[] big = new byte[3 << 20];
        new java.util.Random(1).nextBytes(big);
        DurableFiles.writePrivate(f, big);
        assertArrayEquals(big, Files.readAllBytes(f));
    }

    @Test
    void aStaleTemporaryFileFromACrashIsReplaced() throws Exception {
        Path f = dir.resolve("webhooks.json");
        Files.writeString(dir.resolve(".webhooks.json.tmp"), "half written");
        DurableFiles.writePrivate(f, "{}".getBytes(StandardCharsets.UTF_8));
        assertEquals("{}", Files.readString(f));
        assertFalse(Files.exists(dir.resolve(".webhooks.json.tmp")));
    }
}
