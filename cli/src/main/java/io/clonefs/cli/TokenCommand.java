package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.api.HttpJsonClient;
import io.clonefs.cli.common.CliException;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Times;
import io.clonefs.daemon.DaemonClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code clonefs token create|list|revoke}: scoped tokens of the control API (docs/api/README.md). */
@Command(name = "token", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs token create --scope branch --ttl 30d --name ci",
            "  clonefs token list",
            "  clonefs token revoke 3f2a9c81d0e4",
            "",
            "Scopes: read (GET only), branch (also create, reset and destroy PostgreSQL branches),",
            "admin (everything). Kept hashed in POOL/tokens.json; the daemon must be running."},
        description = {"Create, list and revoke scoped tokens of the control API,",
            "for clients on other hosts (clonefs mount --listen, CLONEFS_URL)."},
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
final class TokenCommand extends BaseCommand {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: create, list or revoke");
    }

    /** Shared plumbing of the token subcommands. */
    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        TokenCommand parent;

        @Spec
        CommandSpec spec;

        HttpJsonClient http() {
            return DaemonClient.find(parent.pool()).orElseThrow(() -> new CliException(ExitCodes.GENERAL,
                    "no daemon serves pool " + parent.pool() + " (start one with 'clonefs mount')")).http();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        boolean json() {
            return parent.json();
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs token create --scope read",
                "  clonefs token create --scope branch --ttl 7d --name ci"},
            description = {"Create a token. Prints it once: only its SHA-256 is kept."})
    static final class Create extends Sub {
        @Option(names = "--scope", required = true, paramLabel = "SCOPE", description = "read, branch or admin.")
        String scope;

        @Option(names = "--ttl", paramLabel = "DURATION", description = "Lifetime: 30s, 15m, 12h, 7d (default: none).")
        String ttl;

        @Option(names = "--name", paramLabel = "NAME", description = "A name for lists and events (default: token-ID).")
        String name;

        @Override
        public Integer call() {
            Api.TokenCreated t = http().call("POST", "tokens", new Api.CreateToken(scope, ttl, name), Api.TokenCreated.class,
                    TIMEOUT);
            if (json()) {
                Output.json(out(), t);
            } else {
                out().println("created token " + t.name() + " (id " + t.id() + ", scope " + t.scope()
                        + (t.expiresAt() == null ? ", no expiry" : ", expires " + Times.local(t.expiresAt())) + ")");
                out().println(t.token());
                out().println("(shown once: only its hash is kept)");
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs token list", "  clonefs token list --json"},
            description = {"List the tokens (never their secrets): id, name, scope, created, expires, last used."})
    static final class ListTokens extends Sub {
        @Override
        public Integer call() {
            List<Api.TokenView> all = http().callForList("GET", "tokens", null, Api.TokenView.class, TIMEOUT);
            if (json()) {
                Output.json(out(), all);
                return ExitCodes.OK;
            }
            if (all.isEmpty()) {
                out().println("no tokens (create one with 'clonefs token create --scope read|branch|admin')");
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "NAME", "SCOPE", "CREATED", "EXPIRES", "LAST USED"});
            for (Api.TokenView t : all) {
                rows.add(new String[] {t.id(), t.name(), t.scope(), Times.local(t.createdAt()),
                    t.expiresAt() == null ? "never" : Times.local(t.expiresAt()),
                    t.lastUsedAt() == null ? "never" : Times.local(t.lastUsedAt())});
            }
            Output.table(out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs token revoke 3f2a9c81d0e4", "  clonefs token revoke ci"},
            description = {"Revoke a token (by id or name): it is refused from then on."})
    static final class Revoke extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            Api.TokenView t = http().call("DELETE", "tokens/" + HttpJsonClient.segment(id), null, Api.TokenView.class, TIMEOUT);
            if (json()) {
                Output.json(out(), t);
            } else {
                out().println("revoked token " + t.name() + " (id " + t.id() + ")");
            }
            return ExitCodes.OK;
        }
    }
}
