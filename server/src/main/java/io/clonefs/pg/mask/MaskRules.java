package io.clonefs.pg.mask;

import io.clonefs.base.ClonefsException;
import io.clonefs.pg.check.SqlScript;
import java.util.ArrayList;
import java.util.List;

/**
 * A rules file of {@code pg mask}:
 * <pre>
 * # comments and blank lines are ignored
 * customers.email     = 'customer' || id || '@example.invalid'
 * public.customers.phone = NULL
 * customers.note      = CASE WHEN note IS NULL THEN NULL
 *                            ELSE 'note ' || id END      -- an indented line continues the one before
 * [sql]
 * DELETE FROM audit_log;                                 -- free SQL, statement by statement
 * </pre>
 * A rule names a column as {@code [schema.]table.column} (plain names are folded to lower case as
 * PostgreSQL does; {@code "Quoted"} names are taken as written) and gives the SQL expression its
 * new value is computed from, over the row's columns as they were before the mask. Everything
 * after a line {@code [sql]} is free SQL ({@link SqlScript}).
 */
public final class MaskRules {
    /** One rule: where it is, the table ({@code schema} null: found on the search path) and column, the expression. */
    public record Rule(int line, String schema, String table, String column, String expression) {
        /** The table as SQL names it: {@code "schema"."table"} or {@code "table"}. */
        public String tableSql() {
            return (schema == null ? "" : quote(schema) + ".") + quote(table);
        }

        /** The column as written, for messages: {@code table.column}. */
        public String display() {
            return (schema == null ? "" : schema + ".") + table + "." + column;
        }
    }

    private final List<Rule> rules;
    private final List<SqlScript.Statement> sql;

    private MaskRules(List<Rule> rules, List<SqlScript.Statement> sql) {
        this.rules = List.copyOf(rules);
        this.sql = List.copyOf(sql);
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The free SQL after {@code [sql]}, with the lines of the rules file. */
    public List<SqlScript.Statement> sql() {
        return sql;
    }

    /**
     * Parses a rules file.
     *
     * @param name how the file is named in errors
     * @throws ClonefsException.InvalidArgument naming the line of the first mistake, or for a file
     *         with neither a rule nor a statement
     */
    public static MaskRules parse(String name, String text) {
        List<Rule> rules = new ArrayList<>();
        List<SqlScript.Statement> sql = List.of();
        String[] lines = text.split("\r?\n", -1);
        int pendingLine = -1;
        StringBuilder pending = null;
        String[] pendingTarget = null;
        for (int i = 0; i < lines.length; i++) {
            String raw = lines[i];
            String line = raw.strip();
            int no = i + 1;
            boolean continuation = !raw.isEmpty() && Character.isWhitespace(raw.charAt(0)) && !line.isEmpty()
                    && !line.startsWith("#") && pending != null;
            if (continuation) {
                pending.append('\n').append(line);
                continue;
            }
            if (pending != null) {
                rules.add(rule(name, pendingLine, pendingTarget, pending.toString()));
                pending = null;
            }
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("--")) {
                continue;
            }
            if (line.equalsIgnoreCase("[sql]")) {
                String rest = "\n".repeat(no) + String.join("\n", java.util.Arrays.asList(lines).subList(no, lines.length));
                sql = SqlScript.split(name, rest);
                break;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw bad(name, no, "expected 'table.column = expression' or '[sql]'");
            }
            pendingTarget = target(name, no, line.substring(0, eq).strip());
            pending = new StringBuilder(line.substring(eq + 1).strip());
            pendingLine = no;
        }
        if (pending != null) {
            rules.add(rule(name, pendingLine, pendingTarget, pending.toString()));
        }
        if (rules.isEmpty() && sql.isEmpty()) {
            throw new ClonefsException.InvalidArgument(name + " holds no rule and no SQL");
        }
        for (int i = 0; i < rules.size(); i++) {
            for (int j = 0; j < i; j++) {
                Rule a = rules.get(j);
                Rule b = rules.get(i);
                if (a.table.equals(b.table) && a.column.equals(b.column) && java.util.Objects.equals(a.schema, b.schema)) {
                    throw bad(name, b.line, "column " + b.display() + " already has a rule (line " + a.line + ")");
                }
            }
        }
        return new MaskRules(rules, sql);
    }

    private static Rule rule(String name, int line, String[] target, String expression) {
        String e = expression.strip();
        if (e.isEmpty()) {
            throw bad(name, line, "no expression after '='");
        }
        List<SqlScript.Statement> parts = SqlScript.split(name, "\n".repeat(line - 1) + e);
        if (parts.size() != 1 || e.endsWith(";")) {
            throw bad(name, line, "an expression is one SQL expression, without ';'");
        }
        return new Rule(line, target[0], target[1], target[2], e);
    }

    /** {@code [schema.]table.column} into its three parts (schema null when not given). */
    private static String[] target(String name, int line, String text) {
        List<String> parts = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (true) {
            if (i >= n) {
                throw bad(name, line, "expected a name in '" + text + "'");
            }
            if (text.charAt(i) == '"') {
                StringBuilder b = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        throw bad(name, line, "unterminated quoted name in '" + text + "'");
                    }
                    char ch = text.charAt(j);
                    if (ch == '"') {
                        if (j + 1 < n && text.charAt(j + 1) == '"') {
                            b.append('"');
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    b.append(ch);
                    j++;
                }
                if (b.isEmpty()) {
                    throw bad(name, line, "an empty quoted name in '" + text + "'");
                }
                parts.add(b.toString());
                i = j + 1;
            } else {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_' || text.charAt(j) == '$')) {
                    j++;
                }
                if (j == i || Character.isDigit(text.charAt(i))) {
                    throw bad(name, line, "'" + text + "' is not [schema.]table.column");
                }
                parts.add(text.substring(i, j).toLowerCase(java.util.Locale.ROOT));
                i = j;
            }
            if (i == n) {
                break;
            }
            if (text.charAt(i) != '.') {
                throw bad(name, line, "'" + text + "' is not [schema.]table.column");
            }
            i++;
        }
        if (parts.size() < 2 || parts.size() > 3) {
            throw bad(name, line, "'" + text + "' is not [schema.]table.column");
        }
        return parts.size() == 2 ? new String[] {null, parts.get(0), parts.get(1)}
                : new String[] {parts.get(0), parts.get(1), parts.get(2)};
    }

    static String quote(String ident) {
        return '"' + ident.replace("\"", "\"\"") + '"';
    }

    private static ClonefsException.InvalidArgument bad(String name, int line, String what) {
        return new ClonefsException.InvalidArgument(name + ":" + line + ": " + what);
    }
}
