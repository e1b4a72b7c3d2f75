package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import io.clonefs.cli.common.Times;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The plain-text results of {@code list}, {@code snapshot}, {@code clone} and {@code destroy}, one
 * place for both ways a command runs (its picocli command and {@link FastPath}); {@code pg branch}'s
 * is {@link io.clonefs.cli.common.BranchResult}. Loads neither picocli nor Jackson.
 */
final class Results {
    private Results() {
    }

    /** {@code clonefs list}: volumes by name, each followed by its snapshots by age; then snapshots of no volume listed. */
    static void list(PrintWriter out, Path pool, Api.Datasets d) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "TYPE", "ORIGIN", "REFER", "UNIQUE", "CREATED"});
        Set<String> printed = new LinkedHashSet<>();
        List<Api.VolumeView> vols = new ArrayList<>(d.volumes());
        vols.sort(ByName.VOLUMES);
        List<Api.SnapshotView> snaps = new ArrayList<>(d.snapshots());
        snaps.sort(ByAge.SNAPSHOTS);
        for (Api.VolumeView v : vols) {
            rows.add(new String[] {v.name(), "volume", v.origin() == null ? "-" : v.origin(),
                Sizes.format(v.referencedBytes()), Sizes.format(v.uniqueBytes()), Times.local(v.createdAt())});
            for (Api.SnapshotView s : snaps) {
                if (s.volume().equals(v.name())) {
                    rows.add(snapshotRow(s));
                    printed.add(s.name());
                }
            }
        }
        for (Api.SnapshotView s : snaps) {
            if (!printed.contains(s.name())) {
                rows.add(snapshotRow(s));
            }
        }
        if (rows.size() == 1) {
            out.println("no volumes in " + pool);
        } else {
            Output.table(out, rows);
        }
    }

    private static String[] snapshotRow(Api.SnapshotView s) {
        String clones = s.clones() == null || s.clones().isEmpty() ? "" : "  (clones: " + String.join(", ", s.clones()) + ")";
        return new String[] {"  " + s.name(), "snapshot", "-", Sizes.format(s.referencedBytes()),
            Sizes.format(s.uniqueBytes()), Times.local(s.createdAt()) + clones};
    }

    static void snapshot(PrintWriter out, Api.Created r) {
        out.println("created snapshot " + r.name() + " (" + millis(r.elapsedMicros()) + ")");
    }

    static void clone(PrintWriter out, Api.Cloned r) {
        out.println("created clone " + r.name() + " from " + r.origin()
                + (r.snapshotCreated() ? " (snapshot taken now)" : "") + " (" + millis(r.elapsedMicros()) + ")");
    }

    static void destroy(PrintWriter out, Api.Destroyed r, boolean recursive) {
        out.println("destroyed " + r.name() + (recursive ? " and its dependants" : ""));
    }

    static String millis(long micros) {
        return micros < 10_000 ? String.format(Locale.ROOT, "%.1f ms", micros / 1000.0)
                : (micros / 1000) + " ms";
    }

    /** Volumes by name (a class, not a lambda: no lambda bootstrap on the fast path). */
    private static final class ByName implements Comparator<Api.VolumeView> {
        static final ByName VOLUMES = new ByName();

        @Override
        public int compare(Api.VolumeView a, Api.VolumeView b) {
            return a.name().compareTo(b.name());
        }
    }

    /** Snapshots by creation time (no time first), then by name. */
    private static final class ByAge implements Comparator<Api.SnapshotView> {
        static final ByAge SNAPSHOTS = new ByAge();

        @Override
        public int compare(Api.SnapshotView a, Api.SnapshotView b) {
            String x = a.createdAt();
            String y = b.createdAt();
            int c = x == null ? (y == null ? 0 : -1) : (y == null ? 1 : x.compareTo(y));
            return c != 0 ? c : a.name().compareTo(b.name());
        }
    }
}
