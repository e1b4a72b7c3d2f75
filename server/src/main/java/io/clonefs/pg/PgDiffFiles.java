package io.clonefs.pg;

import io.clonefs.api.PgApi;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pure parts of {@code pg diff}: which files of a data directory hold relations and how their
 * names map to a relation fork and segment, the normalisation of a {@code pg_dump --schema-only}
 * output, and the order of the report. Stateless.
 *
 * <p>A relation fork is {@code base/<database oid>/<filenode>[_fsm|_vm|_init]} (or under
 * {@code global/} for the cluster-wide catalogs), in 1 GiB segments {@code <file>}, {@code <file>.1},
 * ...: page {@code p} of segment {@code s} is page {@code s * 131072 + p} of the fork.
 */
final class PgDiffFiles {
    /** PostgreSQL's page, and the engine block size {@code pg diff --data} needs. */
    static final int PAGE = 8192;

    private static final Pattern FILE = Pattern.compile("([1-9][0-9]*)(?:_(fsm|vm|init))?(?:\\.([1-9][0-9]*))?");

    private PgDiffFiles() {
    }

    /**
     * One segment of a relation fork.
     *
     * @param fork    the fork's path: its first segment's path, e.g. {@code base/5/16397_vm}
     * @param relfile the relation's file without fork or segment ({@code base/5/16397}): what the catalog names
     * @param forkName {@code main}, {@code fsm}, {@code vm} or {@code init}
     */
    record Segment(String fork, String relfile, String forkName, int segment) {
    }

    /**
     * The segment a file named {@code name} in {@code dir} ({@code base/<oid>} or {@code global}) is,
     * or null for a file that is not a relation's (e.g. {@code pg_filenode.map}, {@code PG_VERSION},
     * temporary files {@code t3_16400}).
     */
    static Segment parse(String dir, String name) {
        Matcher m = FILE.matcher(name);
        if (!m.matches()) {
            return null;
        }
        String relfile = dir + "/" + m.group(1);
        String fork = m.group(2) == null ? "main" : m.group(2);
        return new Segment(fork.equals("main") ? relfile : relfile + "_" + fork, relfile, fork,
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
    }

    /** Pages of a file of {@code size} bytes (a partly written last page counts). */
    static long pages(long size) {
        return (size + PAGE - 1) / PAGE;
    }

    /** The name {@code relkind} has in the report. */
    static String kind(String relkind) {
        return switch (relkind) {
            case "r" -> "table";
            case "i" -> "index";
            case "t" -> "toast";
            case "m" -> "matview";
            case "S" -> "sequence";
            default -> relkind;
        };
    }

    /**
     * A schema dump as {@code pg diff --schema} compares it: no comments, no {@code SET} or
     * {@code set_config} lines (session settings of the dump, equal for equal schemas), no
     * psql {@code restrict} and {@code unrestrict} meta-command lines (a random key per dump), no runs of blank lines.
     * Ownership is left out by {@code pg_dump --no-owner}.
     */
    static String normaliseSchema(String dump) {
        StringBuilder out = new StringBuilder();
        boolean blank = true;
        for (String line : dump.split("\n", -1)) {
            String l = line.stripTrailing();
            if (l.startsWith("--") || l.startsWith("SET ") || l.startsWith("SELECT pg_catalog.set_config(")
                    || l.startsWith("\\restrict") || l.startsWith("\\unrestrict")) {
                continue;
            }
            if (l.isEmpty()) {
                if (!blank) {
                    out.append('\n');
                }
                blank = true;
                continue;
            }
            out.append(l).append('\n');
            blank = false;
        }
        return out.toString().strip() + "\n";
    }

    /** The rows worth reporting (at least one page differs), most differing pages first, then by name. */
    static List<PgApi.DiffRelation> report(List<PgApi.DiffRelation> all) {
        List<PgApi.DiffRelation> out = new ArrayList<>();
        for (PgApi.DiffRelation r : all) {
            if (r.pagesDiffer() > 0) {
                out.add(r);
            }
        }
        out.sort(Comparator.comparingLong(PgApi.DiffRelation::pagesDiffer).reversed()
                .thenComparing(PgApi.DiffRelation::database).thenComparing(PgApi.DiffRelation::relation)
                .thenComparing(PgApi.DiffRelation::file));
        return out;
    }

    /** The sums over every row. */
    static PgApi.DiffTotal total(List<PgApi.DiffRelation> all) {
        long d = 0;
        long a = 0;
        long b = 0;
        for (PgApi.DiffRelation r : all) {
            d += r.pagesDiffer();
            a += r.pagesA();
            b += r.pagesB();
        }
        return new PgApi.DiffTotal(d, a, b);
    }
}
