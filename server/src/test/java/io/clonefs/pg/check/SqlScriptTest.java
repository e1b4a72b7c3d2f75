package io.clonefs.pg.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clonefs.base.ClonefsException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Splitting a migration into the statements psql would send. */
class SqlScriptTest {
    private static List<String> sql(String text) {
        return SqlScript.split("m.sql", text).stream().map(SqlScript.Statement::sql).toList();
    }

    private static List<Integer> lines(String text) {
        return SqlScript.split("m.sql", text).stream().map(SqlScript.Statement::line).toList();
    }

    @Test
    void semicolonsEndStatements() {
        assertEquals(List.of("select 1", "select 2"), sql("select 1; select 2;"));
        assertEquals(List.of("select 1", "select 2"), sql("select 1;\n\nselect 2"), "the last needs no semicolon");
        assertEquals(List.of(), sql(" ;\n ; -- only a comment\n/* and another */\n"));
    }

    @Test
    void semicolonsInsideStringsIdentifiersCommentsAndBodiesDoNot() {
        assertEquals(List.of("select 'a;b', 'it''s;'", "select 2"), sql("select 'a;b', 'it''s;'; select 2;"));
        assertEquals(List.of("select E'a\\';b'", "select 2"), sql("select E'a\\';b'; select 2;"));
        assertEquals(List.of("select \"we;ird\"\"col\" from t"), sql("select \"we;ird\"\"col\" from t;"));
        assertEquals(List.of("select 1 -- a; b\n+ 1"), sql("select 1 -- a; b\n+ 1;"));
        assertEquals(List.of("select /* a; /* nested; */ b; */ 1"), sql("select /* a; /* nested; */ b; */ 1;"));
        String fn = "create function f() returns int language plpgsql as $$\nbegin\n  return 1;\nend;\n$$";
        assertEquals(List.of(fn, "select f()"), sql(fn + ";\nselect f();"));
        String tagged = "do $body$ begin perform 1; raise notice '$$;'; end $body$";
        assertEquals(List.of(tagged), sql(tagged + ";"));
        assertEquals(List.of("prepare p as select $1::int", "execute p(1)"), sql("prepare p as select $1::int; execute p(1);"),
                "$1 is a parameter, not a dollar quote");
        assertEquals(List.of("select 1 as a$b", "select 2"), sql("select 1 as a$b; select 2;"));
    }

    @Test
    void eachStatementKnowsItsLine() {
        assertEquals(List.of(1, 3, 8), lines("select 1;\n\nselect\n'two\nlines';\n-- comment\n/* c\n */ select 3;"));
        assertEquals(List.of(2), lines("-- header comment\nalter table t add column c int;"));
    }

    @Test
    void unclosedThingsAndMetaCommandsAreRefusedWithTheirLine() {
        assertEquals("m.sql:2: a string (') is not closed",
                assertThrows(ClonefsException.InvalidArgument.class, () -> sql("select 1;\nselect 'x;\n")).getMessage());
        assertEquals("m.sql:1: a quoted identifier (\") is not closed",
                assertThrows(ClonefsException.InvalidArgument.class, () -> sql("select \"x")).getMessage());
        assertEquals("m.sql:1: a /* comment is not closed",
                assertThrows(ClonefsException.InvalidArgument.class, () -> sql("/* /* */ select 1;")).getMessage());
        assertEquals("m.sql:1: a dollar-quoted body ($f$) is not closed",
                assertThrows(ClonefsException.InvalidArgument.class, () -> sql("do $f$ begin end $$;")).getMessage());
        assertEquals("m.sql:2: psql meta-commands such as '\\i' are not run; give plain SQL statements",
                assertThrows(ClonefsException.InvalidArgument.class, () -> sql("select 1;\n\\i other.sql\n")).getMessage());
    }
}
