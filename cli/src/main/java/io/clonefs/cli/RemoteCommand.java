package io.clonefs.cli;

import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Sizes;
import io.clonefs.pg.PgDurations;
import io.clonefs.remote.Credentials;
import io.clonefs.remote.RemoteConfig;
import io.clonefs.remote.RemoteGc;
import io.clonefs.remote.RemoteService;
import io.clonefs.remote.Remotes;
import io.clonefs.remote.S3Store;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code clonefs remote add|list|remove}: the S3 object stores snapshots are pushed to. */
@Command(name = "remote", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs remote add ceph --endpoint http://127.0.0.1:7480 --bucket clonefs --credentials-file keys",
            "  clonefs remote list --json", "  clonefs remote remove ceph",
            "  clonefs remote delete ceph db1@nightly", "  clonefs remote gc ceph --apply"},
        description = {"Manage the S3 remotes of the pool (object stores that snapshots are pushed to).",
            "Stored in POOL/remotes/NAME/ (credentials mode 0600); the daemon sees changes at once."},
        subcommands = {RemoteCommand.Add.class, RemoteCommand.ListRemotes.class, RemoteCommand.Remove.class,
            RemoteCommand.Delete.class, RemoteCommand.Gc.class})
final class RemoteCommand extends BaseCommand {
    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: add, list, remove, delete or gc");
    }

    /** Shared plumbing of the remote subcommands. */
    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        RemoteCommand parent;

        @Spec
        CommandSpec spec;

        Remotes remotes() {
            return new Remotes(parent.pool());
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        boolean json() {
            return parent.json();
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs remote add ceph --endpoint http://10.0.0.5:7480 --bucket clonefs \\",
                "      --prefix prod --credentials-file /root/ceph.keys",
                "  AWS_ACCESS_KEY_ID=K AWS_SECRET_ACCESS_KEY=S clonefs remote add s3 --bucket b \\",
                "      --endpoint https://s3.eu-west-1.amazonaws.com --region eu-west-1",
                "",
                "A credentials file (mode 0600) holds two lines: aws_access_key_id=KEY and",
                "aws_secret_access_key=SECRET. Without one, AWS_ACCESS_KEY_ID and",
                "AWS_SECRET_ACCESS_KEY of this shell are stored."},
            description = {"Add an S3 remote, after checking that its bucket answers with these keys."})
    static final class Add extends Sub {
        @Parameters(index = "0", paramLabel = "NAME", description = "Remote name: letters, digits, '_' and '-' (no dots).")
        String name;

        @Option(names = "--endpoint", required = true, paramLabel = "URL", description = "S3 endpoint, e.g. http://127.0.0.1:7480.")
        String endpoint;

        @Option(names = "--bucket", required = true, paramLabel = "BUCKET", description = "Bucket (must exist).")
        String bucket;

        @Option(names = "--prefix", paramLabel = "P", description = "Key prefix inside the bucket (default: none).")
        String prefix;

        @Option(names = "--region", paramLabel = "R", description = "Region (default: us-east-1).")
        String region;

        @Option(names = "--credentials-file", paramLabel = "FILE",
                description = "File with aws_access_key_id=... and aws_secret_access_key=... lines, mode 0600.")
        Path credentialsFile;

        @Override
        public Integer call() {
            RemoteConfig c = new RemoteConfig(name, endpoint, bucket, prefix, region);
            Credentials k = credentialsFile != null ? Credentials.readFile(credentialsFile) : Credentials.fromEnvironment(System.getenv());
            RemoteService.addRemote(remotes(), c, k);
            if (json()) {
                Output.json(out(), c);
            } else {
                out().println("added remote " + c.name() + ": " + c.location());
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs remote list", "  clonefs remote list --json"}, description = "List the remotes of the pool.")
    static final class ListRemotes extends Sub {
        @Override
        public Integer call() {
            List<RemoteConfig> all = remotes().list();
            if (json()) {
                Output.json(out(), all);
                return ExitCodes.OK;
            }
            if (all.isEmpty()) {
                out().println("no remotes (add one with 'clonefs remote add')");
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"NAME", "ENDPOINT", "BUCKET", "PREFIX", "REGION"});
            for (RemoteConfig c : all) {
                rows.add(new String[] {c.name(), c.endpoint(), c.bucket(), c.prefix().isEmpty() ? "-" : c.prefix(), c.region()});
            }
            Output.table(out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs remote remove ceph"},
            description = {"Forget a remote (its credentials and push records). Nothing is deleted from",
                "the object store; clones of its snapshots fail to read blocks not cached yet."})
    static final class Remove extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            RemoteConfig.checkName(name);
            remotes().remove(name);
            if (json()) {
                Output.json(out(), Map.of("removed", name));
            } else {
                out().println("removed remote " + name);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs remote delete ceph db1@nightly", "  clonefs remote gc ceph --apply    # then free its packs"},
            description = {"Delete a pushed snapshot from the remote: its manifest goes at once.",
                "It can no longer be cloned; its packs stay until 'remote gc --apply'.",
                "Pools that imported it no longer reuse their import.",
                "Their reads of blocks not cached yet fail once a gc has removed them."})
    static final class Delete extends Sub {
        @Parameters(index = "0", paramLabel = "REMOTE")
        String name;

        @Parameters(index = "1", paramLabel = "VOLUME@SNAP", description = "The snapshot as named on the remote.")
        String snapshot;

        @Override
        public Integer call() {
            Remotes.Remote r = remotes().get(RemoteConfig.checkName(name));
            RemoteGc.Deleted d;
            try (S3Store store = new S3Store(r.config(), r.credentials())) {
                d = RemoteGc.deleteSnapshot(store, snapshot);
            }
            if (json()) {
                Output.json(out(), d);
            } else {
                out().println("deleted " + name + ":" + snapshot + " (its packs stay until 'clonefs remote gc " + name + " --apply')");
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "gc", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs remote gc ceph                 # dry run: what would be removed",
                "  clonefs remote gc ceph --apply",
                "  clonefs remote gc ceph --apply --grace 2h"},
            description = {"Remove the packs and listings that no pushed snapshot references.",
                "A dry run unless --apply. Objects younger than --grace are kept.",
                "A gc that deletes holds a lease on the remote: it stops while a push runs.",
                "Pushes wait for it in turn (docs/design.md, 'Remote deletion and GC').",
                "A manifest that cannot be read stops it before anything is deleted."})
    static final class Gc extends Sub {
        @Parameters(index = "0", paramLabel = "REMOTE")
        String name;

        @Option(names = "--apply", description = "Delete (default: only report what would be deleted).")
        boolean apply;

        @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "24h",
                description = "Keep unreferenced objects younger than this (default: ${DEFAULT-VALUE}; 0: none).")
        String grace;

        @Override
        public Integer call() {
            Remotes.Remote r = remotes().get(RemoteConfig.checkName(name));
            Duration g = grace.strip().equals("0") ? Duration.ZERO : PgDurations.parse(grace);
            RemoteGc.Result res;
            try (S3Store store = new S3Store(r.config(), r.credentials())) {
                res = RemoteGc.gc(store, g, apply);
            }
            if (json()) {
                Output.json(out(), res);
                return ExitCodes.OK;
            }
            String verb = apply ? "deleted" : "would delete";
            out().println(name + ": " + res.manifests() + " snapshots reference " + res.referencedPacks() + " packs and "
                    + res.referencedListings() + " listings");
            out().println(verb + " " + res.packs() + " packs (" + Sizes.format(res.packBytes()) + ") and " + res.listings()
                    + " listings (" + Sizes.format(res.listingBytes()) + ")"
                    + (res.youngKept() > 0 ? "; kept " + res.youngKept() + " unreferenced objects younger than " + grace : ""));
            if (!apply && res.packs() + res.listings() > 0) {
                out().println("run again with --apply to delete them");
            }
            return ExitCodes.OK;
        }
    }
}
