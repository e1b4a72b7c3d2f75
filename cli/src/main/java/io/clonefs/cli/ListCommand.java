package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import io.clonefs.cli.common.Times;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;

@Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs list", "  clonefs list --json | jq -r '.volumes[].name'"},
        description = {"List volumes and their snapshots, with origins and space.",
    "REFER: bytes of blocks referenced; UNIQUE: bytes only it references (what destroying it frees)."})
final class ListCommand extends BaseCommand {
    @Override
    public Integer call() {
        Api.Datasets d = withPool(s -> s.list());
        if (json()) {
            Output.json(out(), d);
            return ExitCodes.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "TYPE", "ORIGIN", "REFER", "UNIQUE", "CREATED"});
        Set<String> printed = new LinkedHashSet<>();
        List<Api.VolumeView> vols = new ArrayList<>(d.volumes());
        vols.sort(Comparator.comparing(Api.VolumeView::name));
        List<Api.SnapshotView> snaps = new ArrayList<>(d.snapshots());
        snaps.sort(Comparator.comparing(Api.SnapshotView::createdAt, Comparator.nullsFirst(Comparator.naturalOrder()))
                .thenComparing(Api.SnapshotView::name));
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
            out().println("no volumes in " + pool());
        } else {
            Output.table(out(), rows);
        }
        return ExitCodes.OK;
    }

    private static String[] snapshotRow(Api.SnapshotView s) {
        String clones = s.clones() == null || s.clones().isEmpty() ? "" : "  (clones: " + String.join(", ", s.clones()) + ")";
        return new String[] {"  " + s.name(), "snapshot", "-", Sizes.format(s.referencedBytes()),
            Sizes.format(s.uniqueBytes()), Times.local(s.createdAt()) + clones};
    }
}
