package io.clonefs.cli.pg;

import io.clonefs.api.MigrationApi;
import io.clonefs.cli.common.Sizes;
import java.util.List;
import java.util.Locale;

/** The report of {@code pg check-migration} as plain text or as Markdown (the same content). */
final class MigrationReports {
    private MigrationReports() {
    }

    static String text(MigrationApi.Report r) {
        return render(r, false);
    }

    static String markdown(MigrationApi.Report r) {
        return render(r, true);
    }

    private static String render(MigrationApi.Report r, boolean md) {
        StringBuilder s = new StringBuilder();
        String h = md ? "### " : "";
        s.append(md ? "## " : "").append("check-migration ").append(r.migration()).append(" on a branch of ")
                .append(r.source()).append(": ").append(r.verdict().toUpperCase(Locale.ROOT)).append("\n\n");
        for (String v : r.violations()) {
            s.append("- ").append(v).append('\n');
        }
        if (!r.violations().isEmpty()) {
            s.append('\n');
        }
        s.append(String.format(Locale.ROOT, "%d of %d statements in %s; WAL %s; branch %s%s%n%n", r.statementsRun(),
                r.statementsTotal(), secs(r.totalMillis()), Sizes.format(r.walBytes()), r.branch(),
                r.kept() ? " (kept)" : " (destroyed)"));

        s.append(h).append(md ? "Statements\n\n" : "Statements:\n");
        table(s, md, List.of("#", "line", "ms", "statement"), r.statements().stream().map(st -> List.of(
                Integer.toString(st.index()), Integer.toString(st.line()), Long.toString(st.millis()),
                code(st.sql(), md) + (st.error() != null ? "  ERROR " + st.error().sqlState() + ": " + st.error().message() : "")
                        + (st.warnings() != null ? "  (" + String.join("; ", st.warnings()) + ")" : ""))).toList());

        s.append('\n').append(h).append(md ? "Locks that block reads or writes of a table\n\n"
                : "Locks that block reads or writes of a table (sampled every " + r.sampleMillis() + " ms):\n");
        if (r.locks().isEmpty()) {
            s.append(md ? "None seen (sampled every " + r.sampleMillis() + " ms).\n" : "  none seen\n");
        } else {
            table(s, md, List.of("relation", "mode", "blocks", "statement", "from", "held"), r.locks().stream().map(l -> List.of(
                    l.relation() + (l.kind().equals("table") ? "" : " (" + l.kind() + ")"), l.mode(), l.blocks(),
                    Integer.toString(l.statement()), secs(l.fromMillis()), secs(l.millis()))).toList());
        }

        MigrationApi.Workload w = r.workload();
        if (w != null) {
            s.append('\n').append(h).append(md ? "Workload\n\n" : "Workload:\n");
            s.append(String.format(Locale.ROOT, "%s%s, %d clients, %s alone before the migration: %d queries waited "
                            + "behind the migration%s.%n", md ? "" : "  ", w.script(), w.clients(), secs(w.warmupMillis()),
                    w.queriesBlocked(), w.queriesBlocked() == 0 ? ""
                            : String.format(Locale.ROOT, " (p50 %s, p99 %s, max %s)", secs(w.blockedP50Millis()),
                            secs(w.blockedP99Millis()), secs(w.blockedMaxMillis()))));
            s.append(String.format(Locale.ROOT, "%slatency %s ms before, %s ms during; %s tps before, %s tps during.%n",
                    md ? "\n" : "  ", num(w.latencyBeforeMs()), num(w.latencyDuringMs()), num(w.tpsBefore()),
                    num(w.tpsDuring())));
            if (w.errors() != null) {
                for (String e : w.errors()) {
                    s.append(md ? "- " : "  ").append(e).append('\n');
                }
            }
        }

        s.append('\n').append(h).append(md ? "Tables and indexes changed\n\n" : "Tables and indexes changed:\n");
        if (r.relations().isEmpty()) {
            s.append(md ? "None.\n" : "  none\n");
        } else {
            table(s, md, List.of("relation", "kind", "before", "after", "rewritten"), r.relations().stream().map(x -> List.of(
                    x.name(), x.kind(), x.bytesBefore() == null ? "(new)" : Sizes.format(x.bytesBefore()),
                    x.bytesAfter() == null ? "(dropped)" : Sizes.format(x.bytesAfter()), x.rewritten() ? "yes" : "")).toList());
        }

        if (!r.log().isEmpty()) {
            s.append('\n').append(h).append(md ? "Server log\n\n```\n" : "Server log (errors and warnings):\n");
            for (String line : r.log()) {
                s.append(md ? "" : "  ").append(line).append('\n');
            }
            if (md) {
                s.append("```\n");
            }
        }
        s.append(String.format(Locale.ROOT, "%nThresholds: lock %s, blocked query %s, duration %s.%n",
                secs(r.maxLockMillis()), secs(r.maxBlockedMillis()), secs(r.maxDurationMillis())));
        return s.toString();
    }

    private static void table(StringBuilder s, boolean md, List<String> head, List<List<String>> rows) {
        if (md) {
            s.append("| ").append(String.join(" | ", head)).append(" |\n|");
            head.forEach(x -> s.append("---|"));
            s.append('\n');
            for (List<String> r : rows) {
                s.append("| ").append(String.join(" | ", r.stream().map(c -> c.replace("|", "\\|")).toList())).append(" |\n");
            }
            return;
        }
        int[] w = new int[head.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = head.get(i).length();
            for (List<String> r : rows) {
                if (i < w.length - 1) {
                    w[i] = Math.max(w[i], r.get(i).length());
                }
            }
        }
        line(s, head, w);
        rows.forEach(r -> line(s, r, w));
    }

    private static void line(StringBuilder s, List<String> cells, int[] w) {
        StringBuilder b = new StringBuilder("  ");
        for (int i = 0; i < cells.size(); i++) {
            b.append(i < cells.size() - 1 ? String.format("%-" + w[i] + "s  ", cells.get(i)) : cells.get(i));
        }
        s.append(b.toString().stripTrailing()).append('\n');
    }

    private static String code(String sql, boolean md) {
        return md ? "`" + sql.replace("`", "'") + "`" : sql;
    }

    static String secs(Long millis) {
        if (millis == null) {
            return "-";
        }
        return millis < 1000 ? millis + " ms" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static String num(Double d) {
        return d == null ? "-" : String.format(Locale.ROOT, "%.1f", d);
    }
}
