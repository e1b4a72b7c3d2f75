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
    description = {"List every managed server: sources and branches, state (running, stopped, suspended:",
    "stopped for being idle, woken by a connection to its port, waking), port, age, expiry,",
    "IDLE, the time without a client after which it is suspended (- never), LIMITS, its memory",
    "limit and CPU weight (- none; pg limit), and UNIQUE, the bytes only its volume holds",
    "(what destroying it frees). ROLE says (masked) for a server made by pg mask or branched",
    "from one (--json names its masked snapshot), and (history 7d) for a source whose history",
    "is kept (pg history), with the WAL it keeps in the pool."})
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
        rows.add(new String[] {"NAME", "ROLE", "STATE", "PORT", "SOURCE", "AGE", "EXPIRES", "IDLE", "LIMITS", "UNIQUE",
            "URI"});
        for (PgApi.Server s : servers) {
            String role = s.role() + (s.standby() ? " (standby)" : "") + (s.protect() ? " (protected)" : "")
                    + (s.masked() == null ? "" : s.masked().verified() ? " (masked)" : " (masked, unverified)")
                    + (s.history() == null ? "" : " (history " + s.history().keep() + ", WAL "
                    + Sizes.format(s.history().walBytes()) + ")");
            String source = s.snapshot() != null ? s.snapshot() : s.primary() != null ? s.primary() : "-";
            String expires = s.expiresAt() == null ? "-"
                    : "in " + age(Math.max(0, Duration.between(Instant.now(), Instant.parse(s.expiresAt())).toSeconds()));
            rows.add(new String[] {s.name(), role, s.state(), Integer.toString(s.port()), source, age(s.ageSeconds()),
                expires, s.suspendAfter() == null ? "-" : s.suspendAfter(), limits(s.limits()), Sizes.format(s.uniqueBytes()),
                s.uri()});
        }
        table(rows);
        return ErrorKind.ExitCode.OK;
    }

    /** {@code 512 MiB}, {@code cpu 200}, both joined by a comma, or {@code -}. */
    static String limits(PgApi.ServerLimits l) {
        List<String> parts = new ArrayList<>();
        if (l != null && l.memory() != null) {
            parts.add(Sizes.format(l.memory()));
        }
        if (l != null && l.cpuWeight() != null) {
            parts.add("cpu " + l.cpuWeight());
        }
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }
}
