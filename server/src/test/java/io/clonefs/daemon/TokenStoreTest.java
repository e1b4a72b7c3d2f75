package io.clonefs.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.Api;
import io.clonefs.base.ClonefsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scoped tokens: kept hashed and durably, checked, expired, revoked, read back after a restart. */
class TokenStoreTest {
    @TempDir
    Path pool;

    @Test
    void tokensAreStoredHashedAndSurviveAReopen() throws Exception {
        TokenStore s = TokenStore.open(pool);
        assertNull(s.check("anything"));
        Api.TokenCreated read = s.create("read", null, "ci-read");
        Api.TokenCreated admin = s.create("ADMIN", "7d", null);
        assertEquals(64, read.token().length());
        assertEquals("token-" + admin.id(), admin.name());
        assertNull(read.expiresAt());
        assertNotNull(admin.expiresAt());

        Path file = pool.resolve(TokenStore.FILE);
        String stored = Files.readString(file);
        assertFalse(stored.contains(read.token()) || stored.contains(admin.token()), stored);
        assertTrue(stored.contains(TokenStore.sha256(read.token())), stored);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        TokenStore again = TokenStore.open(pool);
        TokenStore.Check c = again.check(read.token());
        assertEquals(Scope.READ, c.scope());
        assertFalse(c.expired());
        assertNotNull(c.token().lastUsedAt());
        assertEquals(Scope.ADMIN, again.check(admin.token()).scope());
        assertNull(again.check(read.token() + "0"));
        assertEquals(2, again.list().size());
        assertFalse(again.list().toString().contains(read.token()));

        assertEquals("ci-read", again.revoke("ci-read").name());
        assertNull(again.check(read.token()));
        assertNull(TokenStore.open(pool).check(read.token()), "a revoked token is gone from the file");
        assertThrows(ClonefsException.NotFound.class, () -> again.revoke("ci-read"));
        assertEquals(Scope.ADMIN, TokenStore.open(pool).check(admin.token()).scope());
    }

    @Test
    void anExpiredTokenIsRecognisedAndRefused() throws Exception {
        TokenStore s = TokenStore.open(pool);
        Api.TokenCreated t = s.create("branch", "1s", "short");
        assertFalse(s.check(t.token()).expired());
        Thread.sleep(1100);
        assertTrue(s.check(t.token()).expired());
        assertEquals(1, s.list().size(), "still listed until revoked");
    }

    @Test
    void badInputIsAnInvalidArgument() {
        TokenStore s = TokenStore.open(pool);
        assertThrows(ClonefsException.InvalidArgument.class, () -> s.create("root", null, null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> s.create(null, null, null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> s.create("read", "soon", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> s.create("read", "-1d", null));
        assertThrows(ClonefsException.InvalidArgument.class, () -> s.create("read", null, "a/b"));
        s.create("read", null, "dup");
        assertThrows(ClonefsException.AlreadyExists.class, () -> s.create("admin", null, "dup"));
        assertEquals(Duration.ofDays(7), TokenStore.ttl("7d"));
        assertEquals(Duration.ofSeconds(30), TokenStore.ttl("30s"));
    }
}
