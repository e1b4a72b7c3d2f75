package io.clonefs.cli.pg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clonefs.api.PgApi;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The table and total line of {@code pg diff --data}. */
class PgDiffCommandTest {
    @Test
    void rowsNameTheDatabaseForkAndOneSidedFiles() {
        PgApi.Diff d = new PgApi.Diff("src", "b1", "src@pgdiff-1", "b1@pgdiff-2", null, List.of(
                new PgApi.DiffRelation("postgres", "public.accounts", "table", "main", "base/5/16396", null, 664, 4923, 4925),
                new PgApi.DiffRelation("app", "public.t", "table", "vm", "base/7/100_vm", null, 2, 3, 3),
                new PgApi.DiffRelation("postgres", "public.tellers", "table", "main", "base/5/24576", "b", 1, 0, 1)),
                new PgApi.DiffTotal(667, 8093, 8318), 20, 9, 85,
                new PgApi.DiffSteps(1, 2, 3, 4, 5, 6, 7));
        List<String[]> rows = PgDiffCommand.rows(d);
        assertArrayEquals(new String[] {"RELATION", "KIND", "PAGES DIFFER", "PAGES IN A", "PAGES IN B"}, rows.get(0));
        assertArrayEquals(new String[] {"public.accounts", "table", "664", "4923", "4925"}, rows.get(1));
        assertArrayEquals(new String[] {"app:public.t", "table vm", "2", "3", "3"}, rows.get(2));
        assertArrayEquals(new String[] {"public.tellers", "table (only in B, base/5/24576)", "1", "0", "1"}, rows.get(3));
        assertEquals("total: 667 pages differ (5.2 MiB); 8,093 pages in A, 8,318 in B; 20 blocks read in 85 ms",
                PgDiffCommand.totalLine(d));
    }
}
