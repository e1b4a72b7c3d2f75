package io.clonefs.pg.mask;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.clonefs.base.ClonefsException;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaskRulesTest {
    @Test
    void rulesContinuationsQuotedNamesAndFreeSql() {
        MaskRules r = MaskRules.parse("m.rules", """
                # comment
                Customers.Email = 'c' || id || '@example.invalid'
                sales."Order Items".note = CASE WHEN note IS NULL THEN NULL
                                             ELSE 'n' END
                -- another comment

                t."a""b" = NULL
                [SQL]
                DELETE FROM audit;
                update t set x = 1 -- ;
                ;
                """);
        List<MaskRules.Rule> rules = r.rules();
        assertEquals(3, rules.size());
        assertEquals(new MaskRules.Rule(2, null, "customers", "email", "'c' || id || '@example.invalid'"), rules.get(0));
        assertEquals(new MaskRules.Rule(3, "sales", "Order Items", "note", "CASE WHEN note IS NULL THEN NULL\nELSE 'n' END"),
                rules.get(1));
        assertEquals("\"sales\".\"Order Items\"", rules.get(1).tableSql());
        assertEquals("a\"b", rules.get(2).column());
        assertNull(rules.get(2).schema());
        assertEquals(2, r.sql().size());
        assertEquals(9, r.sql().get(0).line());
        assertEquals(10, r.sql().get(1).line());
    }

    @Test
    void mistakesNameTheirLine() {
        List<String[]> cases = List.of(
                new String[] {"t.c = 1\nt.c 2\n", "m.rules:2: expected 'table.column = expression' or '[sql]'"},
                new String[] {"c = 1\n", "m.rules:1: 'c' is not [schema.]table.column"},
                new String[] {"a.b.c.d = 1\n", "m.rules:1: 'a.b.c.d' is not [schema.]table.column"},
                new String[] {"t.1c = 1\n", "m.rules:1: 't.1c' is not [schema.]table.column"},
                new String[] {"t.\"c = 1\n", "m.rules:1: unterminated quoted name in 't.\"c'"},
                new String[] {"t.c =\n", "m.rules:1: no expression after '='"},
                new String[] {"t.c = 'x\n", "m.rules:1: a string (') is not closed"},
                new String[] {"t.c = 1; drop table t\n", "m.rules:1: an expression is one SQL expression, without ';'"},
                new String[] {"t.c = 1\nT.C = 2\n", "m.rules:2: column t.c already has a rule (line 1)"},
                new String[] {"# only\n\n", "m.rules holds no rule and no SQL"},
                new String[] {"t.c = 1\n[sql]\nselect 'x;\n", "m.rules:3: a string (') is not closed"});
        for (String[] c : cases) {
            ClonefsException e = assertThrows(ClonefsException.InvalidArgument.class, () -> MaskRules.parse("m.rules", c[0]),
                    c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
        }
    }
}
