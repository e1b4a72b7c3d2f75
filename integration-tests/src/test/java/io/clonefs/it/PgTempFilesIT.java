package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A managed server's temporary files (a sort larger than {@code work_mem}) go to
 * {@code POOL/pg/tmp/<server>} on the pool's own disk, through the link {@code base/pgsql_tmp} of
 * its data directory: never into its volume, never into another server's directory, even though a
 * branch's snapshot carries its source's link. A directory of an earlier layout is replaced; a
 * link that cannot be made leaves the files in the volume and the server working; the directory
 * goes with the server.
 */
class PgTempFilesIT {
    private static final String SPILL = "declare c cursor for select g from generate_series(1, 300000) g order by g desc";

    @Test
    void temporaryFilesGoToTheServersOwnDirectoryBesideThePool() throws Exception {
        try (PgHarness h = PgHarness.start("pgtmp")) {
            run(h);
        }
    }

    private void run(PgHarness h) throws Exception {
        PgManager pg = h.pg();
        Path tmp = h.pool().toAbsolutePath().normalize().resolve("pg").resolve("tmp");
        PgApi.Server src = pg.init("src", null);
        assertLinked(h, "src", tmp);

        // a sort held open by a cursor keeps its temporary file: it is in src's directory
        try (Connection c = PgHarness.connect(src.port()); Statement s = spill(c)) {
            List<String> srcFiles = tempFiles(tmp.resolve("src"));
            assertFalse(srcFiles.isEmpty(), "the spilled sort wrote no file into " + tmp.resolve("src"));

            // a branch taken meanwhile carries src's link in its snapshot; its start (which removes
            // the temporary files it finds) must not reach src's directory
            PgApi.Branched b1 = pg.branch(BranchSpec.of("src", "b1"));
            assertLinked(h, "b1", tmp);
            assertEquals(srcFiles, tempFiles(tmp.resolve("src")), "b1's start touched src's temporary files");
            assertEquals(299999, first(s, "fetch 1 from c"));

            try (Connection bc = PgHarness.connect(b1.port()); Statement bs = spill(bc)) {
                assertFalse(tempFiles(tmp.resolve("b1")).isEmpty(), "b1's sort wrote no file into its directory");
                assertEquals(srcFiles, tempFiles(tmp.resolve("src")), "b1's sort wrote into src's directory");
            }
        }
        // PostgreSQL removes a statement's files at its end (here when the backend exits, just
        // after the connection's close returned): nothing is left behind
        awaitNoTempFiles(tmp.resolve("src"));
        awaitNoTempFiles(tmp.resolve("b1"));

        // a data directory from before (a real base/pgsql_tmp with a stale file) gets the link at its next start
        pg.stop("b1");
        Path b1Link = dataDir(h, "b1").resolve("base").resolve("pgsql_tmp");
        Files.delete(b1Link);
        Files.createDirectory(b1Link);
        Files.writeString(b1Link.resolve("pgsql_tmp999.0"), "stale");
        pg.start("b1");
        assertLinked(h, "b1", tmp);
        assertEquals(List.of(), tempFiles(tmp.resolve("b1")));

        // the right link, but its directory deleted by hand while the server was stopped: the
        // next start makes the directory again, and the server's sorts spill into it
        pg.stop("b1");
        try (Stream<Path> s = Files.walk(tmp.resolve("b1"))) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        PgApi.Server b1Again = pg.start("b1");
        assertLinked(h, "b1", tmp);
        try (Connection bc = PgHarness.connect(b1Again.port()); Statement bs = spill(bc)) {
            assertFalse(tempFiles(tmp.resolve("b1")).isEmpty(), "b1's sort wrote no file into its remade directory");
        }
        awaitNoTempFiles(tmp.resolve("b1"));

        // a directory that cannot be made: the branch keeps its temporary files in its volume, and works
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve("b2"), "in the way");
        PgApi.Branched b2 = pg.branch(BranchSpec.of("src", "b2"));
        Path b2Link = dataDir(h, "b2").resolve("base").resolve("pgsql_tmp");
        assertFalse(Files.isSymbolicLink(b2Link), "b2 kept a link although its directory could not be made");
        try (Connection bc = PgHarness.connect(b2.port()); Statement bs = spill(bc)) {
            assertFalse(tempFiles(b2Link).isEmpty(), "b2's sort wrote no file into " + b2Link);
            assertEquals(List.of(), tempFiles(tmp.resolve("src")), "b2's sort wrote into src's directory");
        }

        // the directory goes with its server
        pg.destroy("b1");
        pg.destroy("b2");
        assertFalse(Files.exists(tmp.resolve("b1"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(tmp.resolve("b2"), LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isDirectory(tmp.resolve("src")));
    }

    /** {@code base/pgsql_tmp} of the server's data directory links to {@code tmp/<name>}, a directory the PostgreSQL user owns, mode 0700. */
    private static void assertLinked(PgHarness h, String name, Path tmp) throws IOException {
        Path link = dataDir(h, name).resolve("base").resolve("pgsql_tmp");
        assertTrue(Files.isSymbolicLink(link), link + " is not a link");
        assertEquals(tmp.resolve(name), Files.readSymbolicLink(link));
        Path dir = tmp.resolve(name);
        assertTrue(Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS), dir + " is not a directory");
        UserPrincipal postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        assertEquals(postgres, Files.getOwner(dir));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    private static Path dataDir(PgHarness h, String name) {
        String dir = h.pg().list().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow().dataDir();
        return Path.of(dir).isAbsolute() ? Path.of(dir) : h.mount().mountpoint().resolve(name).resolve(dir);
    }

    /** Names of PostgreSQL's temporary files ({@code pgsql_tmp<pid>.<n>}) in {@code dir}, sorted. */
    private static List<String> tempFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("pgsql_tmp")).sorted().toList();
        }
    }

    private static void awaitNoTempFiles(Path dir) throws Exception {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
        while (!tempFiles(dir).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), tempFiles(dir), "left in " + dir);
    }

    /**
     * In a transaction on {@code c}: opens a cursor over a sort larger than {@code work_mem} and
     * fetches its first row. The sort's temporary file stays until the transaction ends.
     */
    private static Statement spill(Connection c) throws Exception {
        c.setAutoCommit(false);
        Statement s = c.createStatement();
        s.execute("set work_mem = '64kB'");
        s.execute(SPILL);
        assertEquals(300000, first(s, "fetch 1 from c"));
        return s;
    }

    private static long first(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), sql + " returned no row");
            return rs.getLong(1);
        }
    }
}
