package io.clonefs.pg.check;

import io.clonefs.base.ClonefsException;
import java.util.ArrayList;
import java.util.List;

/**
 * A SQL file split into its statements, as {@code psql} would send them one by one: a semicolon
 * ends a statement unless it is inside a string ({@code '...'} with {@code ''} inside,
 * {@code E'...'} with backslash escapes), a quoted identifier ({@code "..."}), a dollar-quoted
 * body ({@code $tag$...$tag$}, as in function bodies and {@code DO} blocks), a comment
 * ({@code -- ...} to the end of the line, {@code /* ... *}{@code /}, nested), or parentheses
 * (never needed by PostgreSQL, kept for robustness). Statements keep their text (comments
 * inside them included) and the line each starts on; empty ones (only comments or blanks) are
 * dropped. {@code psql} meta-commands ({@code \set}, {@code \i}, ...) are refused: the check
 * runs SQL through one session, not psql.
 */
public final class SqlScript {
    /** One statement: its text without the final semicolon, and the 1-based line it starts on. */
    public record Statement(int line, String sql) {
    }

    private SqlScript() {
    }

    /**
     * Splits {@code text}.
     *
     * @param name how the script is named in errors (its file name)
     * @throws ClonefsException.InvalidArgument for an unterminated string, identifier, dollar quote
     *         or comment, or a psql meta-command
     */
    public static List<Statement> split(String name, String text) {
        List<Statement> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int line = 1;
        int startLine = -1; // line of the first significant character of the current statement
        boolean significant = false;
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c == '-' && i + 1 < n && text.charAt(i + 1) == '-') {
                int end = text.indexOf('\n', i);
                end = end < 0 ? n : end;
                cur.append(text, i, end);
                i = end;
                continue;
            }
            if (c == '/' && i + 1 < n && text.charAt(i + 1) == '*') {
                int depth = 0;
                int j = i;
                int startedOn = line;
                while (j < n) {
                    if (text.startsWith("/*", j)) {
                        depth++;
                        j += 2;
                    } else if (text.startsWith("*/", j)) {
                        depth--;
                        j += 2;
                        if (depth == 0) {
                            break;
                        }
                    } else {
                        if (text.charAt(j) == '\n') {
                            line++;
                        }
                        j++;
                    }
                }
                if (depth != 0) {
                    throw new ClonefsException.InvalidArgument(name + ":" + startedOn + ": a /* comment is not closed");
                }
                cur.append(text, i, j);
                i = j;
                continue;
            }
            if (!significant && !Character.isWhitespace(c) && c != ';') {
                significant = true;
                startLine = line;
                if (c == '\\') {
                    throw new ClonefsException.InvalidArgument(name + ":" + line + ": psql meta-commands such as '"
                            + firstWord(text, i) + "' are not run; give plain SQL statements");
                }
            }
            if (c == '\'' || c == '"') {
                boolean escapes = c == '\'' && i > 0 && (text.charAt(i - 1) == 'E' || text.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(text.charAt(i - 2)) && text.charAt(i - 2) != '_');
                int j = i + 1;
                int startedOn = line;
                boolean closed = false;
                while (j < n) {
                    char d = text.charAt(j);
                    if (d == '\n') {
                        line++;
                    }
                    if (escapes && d == '\\' && j + 1 < n) {
                        if (text.charAt(j + 1) == '\n') {
                            line++;
                        }
                        j += 2;
                        continue;
                    }
                    if (d == c) {
                        if (j + 1 < n && text.charAt(j + 1) == c) {
                            j += 2; // '' or "" inside
                            continue;
                        }
                        closed = true;
                        j++;
                        break;
                    }
                    j++;
                }
                if (!closed) {
                    throw new ClonefsException.InvalidArgument(name + ":" + startedOn + ": a "
                            + (c == '\'' ? "string (')" : "quoted identifier (\")") + " is not closed");
                }
                cur.append(text, i, j);
                i = j;
                continue;
            }
            if (c == '$') {
                String tag = dollarTag(text, i);
                if (tag != null) {
                    int end = text.indexOf(tag, i + tag.length());
                    if (end < 0) {
                        throw new ClonefsException.InvalidArgument(name + ":" + line + ": a dollar-quoted body (" + tag
                                + ") is not closed");
                    }
                    int j = end + tag.length();
                    for (int k = i; k < j; k++) {
                        if (text.charAt(k) == '\n') {
                            line++;
                        }
                    }
                    cur.append(text, i, j);
                    i = j;
                    continue;
                }
            }
            if (c == ';') {
                if (significant) {
                    out.add(new Statement(startLine, cur.toString().strip()));
                }
                cur.setLength(0);
                significant = false;
                i++;
                continue;
            }
            if (c == '\n') {
                line++;
            }
            cur.append(c);
            i++;
        }
        if (significant) {
            out.add(new Statement(startLine, cur.toString().strip()));
        }
        return out;
    }

    /** The opening dollar quote at {@code i} ({@code $$} or {@code $tag$}), or null for a parameter like {@code $1}. */
    private static String dollarTag(String text, int i) {
        if (i > 0) {
            char p = text.charAt(i - 1);
            if (Character.isLetterOrDigit(p) || p == '_') {
                return null; // part of an identifier such as a$b
            }
        }
        int j = i + 1;
        while (j < text.length()) {
            char d = text.charAt(j);
            if (d == '$') {
                String tag = text.substring(i, j + 1);
                return tag.length() > 2 && Character.isDigit(tag.charAt(1)) ? null : tag;
            }
            if (!(Character.isLetterOrDigit(d) || d == '_')) {
                return null;
            }
            j++;
        }
        return null;
    }

    private static String firstWord(String text, int i) {
        int j = i;
        while (j < text.length() && !Character.isWhitespace(text.charAt(j))) {
            j++;
        }
        return text.substring(i, j);
    }
}
