package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.engine.SnapshotInfo;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.pg.PgManager;
import io.clonefs.pg.PgManager.BranchSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pg diff} on real PostgreSQL 15 servers on a real mount: {@code --data} equals a brute-force
 * page-by-page compare of the two data directories' relation files (read through the mount's
 * {@code .snapshots}) after random updates, deletes, a {@code VACUUM FULL} and a new table, on both
 * sides; running servers are checkpointed and snapshotted, snapshots and stopped servers are read
 * through throwaway branches; {@code --schema} shows an added column, index and function; bad input
 * is one line and leaves no snapshot or branch behind.
 */
class PgDiffIT {
    private static final int PAGE = 8192;
    private static final Pattern REL_FILE = Pattern.compile("([1-9][0-9]*)(_(fsm|vm|init))?(\\.([1-9][0-9]*))?");

    private PgHarness h;

    @AfterEach
    void teardown() {
        if (h != null) {
            h.close();
        }
    }

    private static PgApi.DiffRequest data(String a, String b, boolean forks) {
        return new PgApi.DiffRequest(a, b, false, true, null, forks);
    }

    /** Nothing made for a diff is left: no pgdiff- snapshot, volume or server. */
    private void assertNothingLeft() {
        for (SnapshotInfo s : h.engine().snapshots()) {
            assertFalse(s.snapshot().startsWith("pgdiff-"), "stray snapshot " + s.name());
        }
        h.engine().volumes().forEach(v -> assertFalse(v.name().startsWith("pgdiff-"), "stray volume " + v.name()));
        h.pg().list().forEach(s -> assertFalse(s.name().startsWith("pgdiff-"), "stray server " + s.name()));
    }

    @Test
    void dataDiffEqualsAPageByPageCompare() throws Exception {
        h = PgHarness.start("pgdiffdata");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "3", "-q", "postgres").check();
        int bp = pg.branch(BranchSpec.of("src", "b1").withCheckpoint(true)).port();

        // nothing changed yet: no table or index differs (both running: checkpoint, snapshot); a few
        // catalog pages may (hint bits set by the branch's recovery and first queries)
        PgApi.Diff same = pg.diff(data("src", "b1", false));
        assertTrue(same.relations().stream().noneMatch(r -> r.relation().startsWith("public.")), same.relations().toString());
        assertTrue(same.total().pagesDiffer() < 20, same.relations().toString());
        assertTrue(same.total().pagesA() > 2000, "pgbench scale 3 has thousands of pages: " + same.total());
        assertNothingLeft();

        Random rnd = new Random(23);
        StringBuilder ids = new StringBuilder("0");
        for (int i = 0; i < 400; i++) {
            ids.append(',').append(1 + rnd.nextInt(300_000));
        }
        PgHarness.execute(bp, "update pgbench_accounts set abalance = abalance + 1 where aid in (" + ids + ")");
        PgHarness.execute(bp, "delete from pgbench_accounts where aid % 997 = 0");
        PgHarness.execute(bp, "vacuum full pgbench_tellers");
        PgHarness.execute(bp, "create table newt as select g, md5(g::text) m from generate_series(1, 20000) g");
        PgHarness.execute(bp, "create index newt_g on newt (g)");
        PgHarness.execute(sp, "update pgbench_accounts set abalance = 7 where aid between 1000 and 1300");

        // running servers: checkpointed, snapshotted, named by their own catalogs
        PgApi.Diff live = pg.diff(data("src", "b1", false));
        assertNothingLeft();
        Map<String, PgApi.DiffRelation> byName = new TreeMap<>();
        live.relations().forEach(r -> byName.merge(r.relation() + (r.only() == null ? "" : " only " + r.only()), r,
                (x, y) -> x));
        System.out.println("pg diff src b1 --data: " + live.relations().size() + " relations, " + live.total()
                + ", blocks read " + live.blocksRead() + ", tree nodes read " + live.treeNodesRead() + ", " + live.millis() + " ms");
        live.relations().forEach(r -> System.out.println("  " + r));
        assertTrue(byName.containsKey("public.pgbench_accounts"), byName.keySet().toString());
        assertTrue(byName.containsKey("public.pgbench_accounts_pkey") || byName.get("public.pgbench_accounts").pagesDiffer() > 0);
        PgApi.DiffRelation newt = byName.get("public.newt only b");
        assertNotNull(newt, byName.keySet().toString());
        assertEquals("table", newt.kind());
        assertEquals(0, newt.pagesA());
        assertEquals(newt.pagesB(), newt.pagesDiffer());
        assertEquals("index", byName.get("public.newt_g only b").kind());
        assertTrue(byName.containsKey("public.pgbench_tellers only b"), "VACUUM FULL wrote a new file: " + byName.keySet());
        assertTrue(live.relations().get(0).pagesDiffer() >= live.relations().get(live.relations().size() - 1).pagesDiffer());

        // the exact states compared: snapshots taken after a checkpoint, read through the mount
        PgHarness.execute(sp, "checkpoint");
        PgHarness.execute(bp, "checkpoint");
        h.mount().syncfs();
        h.engine().snapshot("src", "x");
        h.engine().snapshot("b1", "y");
        PgApi.Diff exact = pg.diff(data("src@x", "b1@y", true));
        assertNothingLeft();
        Path snaps = h.mount().mountpoint().resolve(".snapshots");
        Map<String, long[]> brute = bruteForce(snaps.resolve("src@x").resolve("data"), snaps.resolve("b1@y").resolve("data"));
        Map<String, long[]> reported = new TreeMap<>();
        for (PgApi.DiffRelation r : exact.relations()) {
            reported.put(r.file(), new long[] {r.pagesDiffer(), r.pagesA(), r.pagesB()});
        }
        long differ = 0;
        long pagesA = 0;
        long pagesB = 0;
        Map<String, long[]> bruteDiffering = new TreeMap<>();
        for (Map.Entry<String, long[]> e : brute.entrySet()) {
            differ += e.getValue()[0];
            pagesA += e.getValue()[1];
            pagesB += e.getValue()[2];
            if (e.getValue()[0] > 0) {
                bruteDiffering.put(e.getKey(), e.getValue());
            }
        }
        assertEquals(render(bruteDiffering), render(reported), "pg diff --data --forks against cmp of every page");
        assertEquals(new PgApi.DiffTotal(differ, pagesA, pagesB), exact.total());
        assertTrue(differ > 100, "the changes touched pages: " + differ);
        System.out.printf("exact: %d of %d/%d pages differ, %d blocks read, %d tree nodes read, %d ms%n", differ, pagesA,
                pagesB, exact.blocksRead(), exact.treeNodesRead(), exact.millis());
        // the diff reads only blocks whose ids differ: far fewer than the database's pages
        assertTrue(exact.blocksRead() < 2 * differ + 2 * (pagesA + pagesB) / 10, "blocks read " + exact.blocksRead());
        // stopped servers are snapshotted as they are
        pg.stop("b1");
        PgApi.Diff stopped = pg.diff(data("b1@y", "b1", false));
        assertNothingLeft();
        assertTrue(stopped.total().pagesDiffer() < 50, "a shutdown checkpoint changes little: " + stopped.relations());
    }

    @Test
    void schemaDiffShowsAColumnAnIndexAndAFunction() throws Exception {
        h = PgHarness.start("pgdiffschema");
        PgManager pg = h.pg();
        int sp = pg.init("src", null).port();
        PgHarness.tool(sp, Duration.ofMinutes(10), "pgbench", "-i", "-s", "1", "-q", "postgres").check();
        int bp = pg.branch(BranchSpec.of("src", "b1").withCheckpoint(true)).port();
        PgApi.Diff equal = pg.diff(new PgApi.DiffRequest("src", "b1", true, false, null, false));
        assertEquals("", equal.schema(), "a branch's schema is its source's");
        assertEquals(null, equal.relations());

        PgHarness.execute(bp, "alter table pgbench_accounts add column note text");
        PgHarness.execute(bp, "create index accounts_note on pgbench_accounts (note)");
        PgHarness.execute(bp, "create function answer() returns int language sql as 'select 42'");
        PgApi.Diff d = pg.diff(new PgApi.DiffRequest("src", "b1", true, true, null, false));
        System.out.println(d.schema());
        assertTrue(d.schema().startsWith("--- src\n+++ b1\n"), d.schema());
        assertTrue(d.schema().contains("\n+    note text\n"), d.schema());
        assertTrue(d.schema().contains("\n+CREATE INDEX accounts_note ON public.pgbench_accounts USING btree (note);\n"), d.schema());
        assertTrue(d.schema().contains("\n+CREATE FUNCTION public.answer() RETURNS integer\n"), d.schema());
        assertFalse(d.schema().contains("OWNER TO") || d.schema().contains("\n+SET ") || d.schema().contains("\n+--"), d.schema());
        assertNotNull(d.total());

        // a stopped server and a snapshot are read through throwaway branches, destroyed afterwards
        pg.stop("b1");
        PgApi.Diff fromStopped = pg.diff(new PgApi.DiffRequest("src", "b1", true, false, null, false));
        assertEquals(d.schema(), fromStopped.schema());
        assertNothingLeft();
        assertEquals("stopped", pg.get("b1").state());
    }

    @Test
    void badInputIsOneLineAndLeavesNothingBehind() throws Exception {
        h = PgHarness.start("pgdiffbad");
        PgManager pg = h.pg();
        pg.init("src", null);
        pg.init("other", null);
        pg.branch(BranchSpec.of("src", "b1"));
        int before = h.engine().snapshots().size();
        List<Runnable> bad = List.of(
                () -> pg.diff(data("src", "nope", false)),
                () -> pg.diff(data("src@nope", "b1", false)),
                () -> pg.diff(data("src", "other", false)),
                () -> pg.diff(data("b1", "other", false)),
                () -> pg.diff(new PgApi.DiffRequest("src", "b1", false, false, null, false)),
                () -> pg.diff(new PgApi.DiffRequest("src", "b1", true, false, "nodb", false)));
        for (Runnable r : bad) {
            ClonefsException e = assertThrows(ClonefsException.class, r::run);
            String m = e.getMessage();
            System.out.println("refused: " + m);
            assertFalse(m.strip().contains("\n"), "one line: " + m);
            assertNothingLeft();
            assertEquals(before, h.engine().snapshots().size());
        }
        ClonefsException unrelated = assertThrows(ClonefsException.class, () -> pg.diff(data("b1", "other", false)));
        assertTrue(unrelated.getMessage().contains("not of one lineage"), unrelated.getMessage());
        assertTrue(assertThrows(ClonefsException.class, () -> pg.diff(data("src", "nope", false))).getMessage()
                .contains("unknown server or snapshot 'nope'"));
        assertEquals(List.of("b1", "other", "src"), pg.list().stream().map(PgApi.Server::name).sorted().toList());
    }

    /** Relation file (first segment's path) to {pages differ, pages in a, pages in b}, by reading every page of both sides. */
    static Map<String, long[]> bruteForce(Path a, Path b) throws IOException {
        Map<String, long[]> out = new TreeMap<>();
        for (String dir : relationDirs(a, b)) {
            TreeMap<String, Boolean> names = new TreeMap<>();
            for (Path side : List.of(a, b)) {
                Path d = side.resolve(dir);
                if (Files.isDirectory(d)) {
                    try (Stream<Path> s = Files.list(d)) {
                        s.forEach(p -> names.put(p.getFileName().toString(), true));
                    }
                }
            }
            for (String name : names.keySet()) {
                Matcher m = REL_FILE.matcher(name);
                if (!m.matches()) {
                    continue;
                }
                String fork = dir + "/" + m.group(1) + (m.group(2) == null ? "" : m.group(2));
                long[] c = cmp(a.resolve(dir).resolve(name), b.resolve(dir).resolve(name));
                long[] acc = out.computeIfAbsent(fork, k -> new long[3]);
                for (int i = 0; i < 3; i++) {
                    acc[i] += c[i];
                }
            }
        }
        return out;
    }

    private static List<String> relationDirs(Path a, Path b) throws IOException {
        TreeMap<String, Boolean> dirs = new TreeMap<>(Map.of("global", true));
        for (Path side : List.of(a, b)) {
            try (Stream<Path> s = Files.list(side.resolve("base"))) {
                s.forEach(p -> dirs.put("base/" + p.getFileName(), true));
            }
        }
        return List.copyOf(dirs.keySet());
    }

    /** {pages that differ or exist on one side only, pages of a, pages of b} of one file. */
    private static long[] cmp(Path a, Path b) throws IOException {
        byte[] x = Files.exists(a) ? Files.readAllBytes(a) : new byte[0];
        byte[] y = Files.exists(b) ? Files.readAllBytes(b) : new byte[0];
        long pa = (x.length + PAGE - 1) / PAGE;
        long pb = (y.length + PAGE - 1) / PAGE;
        long differ = 0;
        for (long p = 0; p < Math.max(pa, pb); p++) {
            if (p >= pa || p >= pb) {
                differ++;
                continue;
            }
            int from = (int) (p * PAGE);
            if (!Arrays.equals(x, from, Math.min(x.length, from + PAGE), y, from, Math.min(y.length, from + PAGE))) {
                differ++;
            }
        }
        return new long[] {differ, pa, pb};
    }

    private static String render(Map<String, long[]> m) {
        StringBuilder s = new StringBuilder();
        m.forEach((k, v) -> s.append(k).append(' ').append(Arrays.toString(v)).append('\n'));
        return s.toString();
    }

}
