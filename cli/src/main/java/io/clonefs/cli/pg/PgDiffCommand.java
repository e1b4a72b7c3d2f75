package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.Sizes;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg diff A B}: what differs between two servers, branches or snapshots of one lineage. */
@Command(name = "diff", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg diff src pr-42 --schema",
        "  clonefs pg diff src pr-42 --data",
        "  clonefs pg diff src@pgauto-20261206T120000.000Z src --data --json | jq .total",
        "  clonefs pg diff src pr-42 --schema --data --database app",
        "  # what pr-42 changed since it was branched (its snapshot: pg list --json):",
        "  clonefs pg diff src@pgauto-20261206T120000.000Z pr-42 --schema --data",
        "  # in CI: docs/ci/branch-per-pr.sh diff PR (a Markdown report for the PR)"},
    description = {"What differs between A and B: managed servers, branches, or snapshots VOLUME@SNAP,",
        "of one lineage (B branched from A, or both from one source).",
        "--schema: a unified diff of pg_dump --schema-only (no comments, SET lines or owners).",
        "--data: per table and index, how many 8 KiB pages differ, from the pool's block",
        "metadata: pages that share a block are equal without being read; pages whose blocks",
        "differ are read and compared byte by byte. Main forks only unless --forks. A relation",
        "rewritten (VACUUM FULL) shows its old file as only in A and its new one as only in B.",
        "A running server is checkpointed and snapshotted for the diff; a snapshot or stopped",
        "server is read through a throwaway branch (for names and the schema). Everything made",
        "for the diff is destroyed before it answers."})
final class PgDiffCommand extends PgSubcommand {
    @Parameters(index = "0", paramLabel = "A")
    String a;

    @Parameters(index = "1", paramLabel = "B")
    String b;

    @Option(names = "--schema", description = "Compare the schemas.")
    boolean schema;

    @Option(names = "--data", description = "Count the pages that differ, per relation.")
    boolean data;

    @Option(names = "--database", paramLabel = "DB", description = "The database whose schema is compared (default postgres).")
    String database;

    @Option(names = "--forks", description = "Also the free space map, visibility map and init forks.")
    boolean forks;

    @Override
    int run() {
        if (!schema && !data) {
            throw new ClonefsException.InvalidArgument("say what to compare: --schema, --data or both");
        }
        PgApi.Diff d = client().diff(new PgApi.DiffRequest(a, b, schema, data, database, forks));
        if (json()) {
            printJson(d);
            return ErrorKind.ExitCode.OK;
        }
        if (d.schema() != null) {
            out().print(d.schema().isEmpty() ? "schemas are equal\n" : d.schema());
            out().flush();
        }
        if (d.relations() != null) {
            if (d.schema() != null) {
                out().println();
            }
            table(rows(d));
            out().println(totalLine(d));
            out().flush();
        }
        return ErrorKind.ExitCode.OK;
    }

    /** The table: a header, then one row per relation fork with differing pages. */
    static List<String[]> rows(PgApi.Diff d) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"RELATION", "KIND", "PAGES DIFFER", "PAGES IN A", "PAGES IN B"});
        for (PgApi.DiffRelation r : d.relations()) {
            String name = (r.database().isEmpty() || r.database().equals("postgres") ? "" : r.database() + ":") + r.relation();
            String kind = r.kind() + (r.fork().equals("main") ? "" : " " + r.fork())
                    + (r.only() == null ? "" : " (only in " + r.only().toUpperCase() + ", " + r.file() + ")");
            rows.add(new String[] {name, kind, Long.toString(r.pagesDiffer()), Long.toString(r.pagesA()),
                Long.toString(r.pagesB())});
        }
        return rows;
    }

    /** {@code total: 12 of 6,569 pages differ (96 KiB); read 24 blocks in 85 ms}. */
    static String totalLine(PgApi.Diff d) {
        PgApi.DiffTotal t = d.total();
        return String.format("total: %,d pages differ (%s); %,d pages in A, %,d in B; %,d blocks read in %,d ms",
                t.pagesDiffer(), Sizes.format(t.pagesDiffer() * 8192), t.pagesA(), t.pagesB(),
                d.blocksRead(), d.millis());
    }
}
