package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.Sizes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code clonefs pg list}: every managed server, as a table or JSON. */
@Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg list", "  clonefs pg list --json | jq -r '.[] | select(.role==\"branch\") | .name'"},
    description = {"Every managed server: sources and branches, state (running, stopped, suspended:",
    "stopped for being idle, woken by a connection to its port, waking), port, age, expiry,",
    "IDLE, the time without a client after which it is suspended (- never),",
    "and UNIQUE, the bytes only its volume holds (what destroying it frees)."})
final class PgListCommand extends PgSubcommand {
    @Override
    int run() {
        List<PgApi.Server> servers = client().list();
        if (json()) {
            printJson(servers);
            return ErrorKind.ExitCode.OK;
        }
        if (servers.isEmpty()) {
            out().println("no PostgreSQL servers in " + pool());
            return ErrorKind.ExitCode.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "ROLE", "STATE", "PORT", "SOURCE", "AGE", "EXPIRES", "IDLE", "UNIQUE", "URI"});
        for (PgApi.Server s : servers) {
            String role = s.role() + (s.standby() ? " (standby)" : "") + (s.protect() ? " (protected)" : "");
            String source = s.snapshot() != null ? s.snapshot() : s.primary() != null ? s.primary() : "-";
            String expires = s.expiresAt() == null ? "-"
                    : "in " + age(Math.max(0, Duration.between(Instant.now(), Instant.parse(s.expiresAt())).toSeconds()));
            rows.add(new String[] {s.name(), role, s.state(), Integer.toString(s.port()), source, age(s.ageSeconds()),
                expires, s.suspendAfter() == null ? "-" : s.suspendAfter(), Sizes.format(s.uniqueBytes()), s.uri()});
        }
        table(rows);
        return ErrorKind.ExitCode.OK;
    }
}
