package io.clonefs.cli.pg;

import io.clonefs.api.MaskApi;
import io.clonefs.cli.common.Sizes;
import java.util.Locale;

/** The report of {@code pg mask} as plain text. */
final class MaskReports {
    private MaskReports() {
    }

    static String text(MaskApi.Report r) {
        StringBuilder s = new StringBuilder();
        boolean ok = "masked".equals(r.verdict());
        if (ok) {
            s.append("masked a copy of ").append(r.source()).append(" into ").append(r.into()).append(": snapshot ")
                    .append(r.snapshot()).append(r.verify() == null ? " (not verified)" : " (verified)").append('\n');
        } else {
            s.append("mask of ").append(r.source()).append(" FAILED: original values are in the masked copy's files; ")
                    .append(r.into()).append(" was destroyed, nothing was kept\n");
        }
        s.append("rules ").append(r.rules()).append(", database ").append(r.database()).append(":\n");
        for (MaskApi.Table t : r.tables()) {
            s.append(String.format(Locale.ROOT, "  %s: %d rows updated (%s)%s%n", t.name(), t.rowsUpdated(),
                    String.join(", ", t.columns()), t.rewritten() ? ", rewritten, " + Sizes.format(t.bytesBefore())
                            + " -> " + Sizes.format(t.bytesAfter()) : ", NOT rewritten"));
        }
        if (r.statements() > 0) {
            s.append("  [sql]: ").append(r.statements()).append(r.statements() == 1 ? " statement\n" : " statements\n");
        }
        s.append("rewritten: ").append(r.rewritten().isEmpty() ? "none" : String.join(", ", r.rewritten())).append('\n');
        s.append("WAL written before the mask: ").append(r.walRemoved() > 0 ? Sizes.format(r.walRemoved()) + " removed"
                : "kept").append('\n');
        s.append("logs emptied: ").append(r.logsEmptied().isEmpty() ? "none" : String.join(", ", r.logsEmptied()))
                .append('\n');
        MaskApi.Verify v = r.verify();
        if (v == null) {
            s.append("verify: skipped (--no-verify)\n");
        } else {
            s.append(String.format(Locale.ROOT, "verify: %d original values of %d columns (%s) searched in %d files, %s, "
                            + "%.1f s: %s%n", v.values(), v.columns().size(), String.join(", ", v.columns()), v.files(),
                    Sizes.format(v.bytes()), v.millis() / 1000.0,
                    v.hitCount() == 0 ? "none found" : v.hitCount() + " found"));
            for (MaskApi.Hit h : v.hits()) {
                s.append("  FOUND an original value of ").append(h.column()).append(" in ").append(h.file())
                        .append(" at offset ").append(h.offset()).append('\n');
            }
            if (v.hitCount() > v.hits().size()) {
                s.append("  ... and ").append(v.hitCount() - v.hits().size()).append(" more\n");
            }
            if (v.keptByRules() > 0) {
                s.append("  ").append(v.keptByRules()).append(" sampled values not searched: the masked data holds "
                        + "them too (a rule kept or reused them)\n");
            }
            for (MaskApi.Unsearched u : v.unsearched()) {
                s.append("  not searched: ").append(u.column()).append(" (").append(u.reason()).append(")\n");
            }
        }
        MaskApi.Timings m = r.millis();
        s.append(String.format(Locale.ROOT, "time: %.1f s (branch %.1f, sample %.1f, mask %.1f, rewrite %.1f, stop and "
                        + "WAL %.1f, snapshot %.1f, verify %.1f)%n", m.total() / 1000.0, m.branch() / 1000.0,
                m.sample() / 1000.0, m.mask() / 1000.0, m.rewrite() / 1000.0, m.stop() / 1000.0, m.snapshot() / 1000.0,
                m.verify() / 1000.0));
        if (ok) {
            s.append("hand out branches of it: clonefs pg branch ").append(r.into()).append(" NEW\n");
        }
        return s.toString();
    }
}
