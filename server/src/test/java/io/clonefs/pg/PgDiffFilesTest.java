package io.clonefs.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.clonefs.api.PgApi;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgDiffFilesTest {
    @Test
    void relationFilesMapToForksAndSegments() {
        assertEquals(new PgDiffFiles.Segment("base/5/16397", "base/5/16397", "main", 0), PgDiffFiles.parse("base/5", "16397"));
        assertEquals(new PgDiffFiles.Segment("base/5/16397", "base/5/16397", "main", 3), PgDiffFiles.parse("base/5", "16397.3"));
        assertEquals(new PgDiffFiles.Segment("base/5/16397_vm", "base/5/16397", "vm", 0),
                PgDiffFiles.parse("base/5", "16397_vm"));
        assertEquals(new PgDiffFiles.Segment("global/1262_fsm", "global/1262", "fsm", 1), PgDiffFiles.parse("global", "1262_fsm.1"));
        assertEquals("init", PgDiffFiles.parse("base/1", "20_init").forkName());
        for (String other : List.of("pg_filenode.map", "PG_VERSION", "t3_16400", "pg_internal.init", "16397.0", "016397",
                "16397_xx", "16397.", "pgsql_tmp")) {
            assertNull(PgDiffFiles.parse("base/5", other), other);
        }
    }

    @Test
    void pagesRoundUp() {
        assertEquals(0, PgDiffFiles.pages(0));
        assertEquals(1, PgDiffFiles.pages(1));
        assertEquals(1, PgDiffFiles.pages(8192));
        assertEquals(131072, PgDiffFiles.pages(1L << 30));
    }

    @Test
    void schemaNormalisationDropsWhatDiffersBetweenEqualSchemas() {
        String dump = String.join("\n",
                "--",
                "-- PostgreSQL database dump",
                "--",
                "\\restrict AbC123",
                "",
                "-- Dumped from database version 15.14",
                "SET statement_timeout = 0;",
                "SELECT pg_catalog.set_config('search_path', '', false);",
                "",
                "",
                "CREATE TABLE public.t (",
                "    id integer   ",
                ");",
                "",
                "",
                "",
                "CREATE INDEX t_id ON public.t USING btree (id);",
                "",
                "\\unrestrict AbC123",
                "");
        assertEquals("CREATE TABLE public.t (\n    id integer\n);\n\nCREATE INDEX t_id ON public.t USING btree (id);\n",
                PgDiffFiles.normaliseSchema(dump));
        assertEquals(PgDiffFiles.normaliseSchema(dump), PgDiffFiles.normaliseSchema(dump.replace("AbC123", "zz9")
                .replace("15.14", "15.15")));
    }

    @Test
    void reportKeepsDifferingRowsMostFirstAndTotalsAll() {
        PgApi.DiffRelation equal = row("public.a", "base/5/1", 0, 10, 10);
        PgApi.DiffRelation few = row("public.b", "base/5/2", 3, 10, 10);
        PgApi.DiffRelation many = row("public.c", "base/5/3", 7, 0, 7);
        PgApi.DiffRelation tie = row("public.a2", "base/5/4", 3, 5, 5);
        assertEquals(List.of(many, tie, few), PgDiffFiles.report(List.of(equal, few, many, tie)));
        assertEquals(new PgApi.DiffTotal(13, 25, 32), PgDiffFiles.total(List.of(equal, few, many, tie)));
        assertEquals("table", PgDiffFiles.kind("r"));
        assertEquals("index", PgDiffFiles.kind("i"));
        assertEquals("toast", PgDiffFiles.kind("t"));
    }

    private static PgApi.DiffRelation row(String name, String file, long differ, long a, long b) {
        return new PgApi.DiffRelation("postgres", name, "table", "main", file, null, differ, a, b);
    }
}
