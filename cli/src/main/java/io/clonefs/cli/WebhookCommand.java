package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.api.HttpJsonClient;
import io.clonefs.api.WebhookApi;
import io.clonefs.cli.common.CliException;
import io.clonefs.cli.common.Output;
import io.clonefs.cli.common.Times;
import io.clonefs.daemon.DaemonClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code clonefs webhook add|list|remove|test|log}: events POSTed to URLs (docs/webhooks.md). */
@Command(name = "webhook", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs webhook add https://ci.example.com/hooks/clonefs \\",
            "      --events pg.branch.created,pg.branch.destroyed",
            "  clonefs webhook list",
            "  clonefs webhook test wh-1a2b3c4d",
            "  clonefs webhook log --json"},
        description = {"POST the daemon's events as signed JSON to URLs (docs/webhooks.md).",
            "Kept in POOL/webhooks.json; the daemon must be running."},
        subcommands = {WebhookCommand.Add.class, WebhookCommand.ListWebhooks.class, WebhookCommand.Remove.class,
            WebhookCommand.Test.class, WebhookCommand.Log.class})
final class WebhookCommand extends BaseCommand {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: add, list, remove, test or log");
    }

    /** Shared plumbing of the webhook subcommands. */
    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        WebhookCommand parent;

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

    @Command(name = "add", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs webhook add https://ci.example.com/hooks/clonefs \\",
                "      --events pg.branch.created,pg.branch.destroyed",
                "  clonefs webhook add http://127.0.0.1:9000/ --events '*' \\",
                "      --secret-file hook.key --give-up-after 1h",
                "",
                "Events: pg.branch.TYPE, pg.source.TYPE, a bare TYPE (any kind) or * (all);",
                "TYPE is created, reset, destroyed, expired, suspended, woken, wake-failed,",
                "masked or limits, as 'clonefs events' prints them (docs/webhooks.md)."},
            description = {"Add a webhook. Prints its id and its secret (shown this once;",
                "'webhook list' masks it)."})
    static final class Add extends Sub {
        @Parameters(index = "0", paramLabel = "URL", description = "Where events are POSTed: http:// or https://.")
        String url;

        @Option(names = "--events", required = true, split = ",", paramLabel = "EVENT",
                description = "Events to send, comma-separated (see below).")
        List<String> events;

        @Option(names = "--secret-file", paramLabel = "FILE",
                description = "The HMAC key, from FILE (default: 32 random bytes, hex).")
        Path secretFile;

        @Option(names = "--give-up-after", paramLabel = "DURATION", defaultValue = "10m",
                description = "Retry a failed delivery this long: 90s, 10m, 2h (default: 10m).")
        String giveUpAfter;

        @Override
        public Integer call() {
            long giveUp = seconds(giveUpAfter);
            String secret = null;
            if (secretFile != null) {
                try {
                    secret = Files.readString(secretFile, StandardCharsets.UTF_8).strip();
                } catch (IOException e) {
                    throw new CliException(ExitCodes.USAGE, "cannot read --secret-file " + secretFile + ": " + e.getMessage());
                }
            }
            WebhookApi.Webhook h = http().call("POST", "webhooks", new WebhookApi.AddWebhook(url, events, secret, giveUp),
                    WebhookApi.Webhook.class, TIMEOUT);
            if (json()) {
                Output.json(out(), h);
            } else {
                out().println("added webhook " + h.id() + ": " + h.url() + " (" + String.join(", ", h.events()) + ")");
                if (secretFile == null) {
                    out().println("secret: " + h.secret() + "  (shown once; 'clonefs webhook list' masks it)");
                }
            }
            return ExitCodes.OK;
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*([smh]?)");

    /** {@code 90}, {@code 90s}, {@code 10m}, {@code 2h} in seconds. */
    static long seconds(String s) {
        Matcher m = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CliException(ExitCodes.USAGE, "--give-up-after takes a duration such as 90s, 10m or 2h, not '" + s + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "m" -> n * 60;
            case "h" -> n * 3600;
            default -> n;
        };
    }

    @Command(name = "list", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs webhook list", "  clonefs webhook list --json"},
            description = "List the webhooks of the pool (secrets masked).")
    static final class ListWebhooks extends Sub {
        @Override
        public Integer call() {
            List<WebhookApi.Webhook> all = http().callForList("GET", "webhooks", null, WebhookApi.Webhook.class, TIMEOUT);
            if (json()) {
                Output.json(out(), all);
                return ExitCodes.OK;
            }
            if (all.isEmpty()) {
                out().println("no webhooks (add one with 'clonefs webhook add')");
                return ExitCodes.OK;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "URL", "EVENTS", "SECRET", "GIVE UP", "CREATED"});
            for (WebhookApi.Webhook h : all) {
                rows.add(new String[] {h.id(), h.url(), String.join(",", h.events()), h.secret(), h.giveUpSeconds() + "s",
                    Times.local(h.createdAt())});
            }
            Output.table(out(), rows);
            return ExitCodes.OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs webhook remove wh-1a2b3c4d"},
            description = {"Remove a webhook; its pending retries are dropped."})
    static final class Remove extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            http().call("DELETE", "webhooks/" + HttpJsonClient.segment(id), null, Api.Ok.class, TIMEOUT);
            if (json()) {
                Output.json(out(), Map.of("removed", id));
            } else {
                out().println("removed webhook " + id);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs webhook test wh-1a2b3c4d"},
            description = {"Send one synthetic 'ping' event now (no retry) and print the answer;",
                "exit code 1 unless the receiver answered 2xx."})
    static final class Test extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            WebhookApi.TestResult t = http().call("POST", "webhooks/" + HttpJsonClient.segment(id) + "/test", null,
                    WebhookApi.TestResult.class, TIMEOUT);
            String what = t.status() != null ? "HTTP " + t.status() : t.error();
            if (json()) {
                Output.json(out(), t);
            } else if (t.ok()) {
                out().println(t.webhook() + ": " + what + " in " + t.millis() + " ms (event " + t.eventId() + ")");
            }
            if (!t.ok()) {
                throw new CliException(ExitCodes.GENERAL, "webhook " + t.webhook() + " did not take the ping: " + what
                        + (t.status() != null && t.error() != null ? " (" + t.error() + ")" : ""));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "log", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {"  clonefs webhook log", "  clonefs webhook log wh-1a2b3c4d --limit 20 --json"},
            description = {"Print the latest delivery attempts, oldest first: status code or error",
                "and duration of each (kept in the daemon's memory, the last 1000)."})
    static final class Log extends Sub {
        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "Only this webhook's deliveries.")
        String id;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N lines (default: 100).")
        int limit;

        @Override
        public Integer call() {
            if (limit < 1 || limit > 1000) {
                throw new CliException(ExitCodes.USAGE, "--limit must be from 1 to 1000, not " + limit);
            }
            String q = "webhooks/deliveries?limit=" + limit + (id == null ? "" : "&webhook=" + HttpJsonClient.segment(id));
            WebhookApi.Deliveries d = http().call("GET", q, null, WebhookApi.Deliveries.class, TIMEOUT);
            if (json()) {
                Output.json(out(), d);
                return ExitCodes.OK;
            }
            if (d.deliveries().isEmpty()) {
                out().println("no deliveries yet");
            } else {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"TIME", "WEBHOOK", "EVENT", "ID", "ATTEMPT", "RESULT", "STATUS", "MS", "ERROR"});
                for (WebhookApi.Delivery e : d.deliveries()) {
                    rows.add(new String[] {Times.local(e.time()), e.webhook(), e.event(), e.eventId(),
                        Integer.toString(e.attempt()), e.result(), e.status() == null ? "-" : e.status().toString(),
                        Long.toString(e.millis()), e.error() == null ? "" : e.error()});
                }
                Output.table(out(), rows);
            }
            if (d.dropped() > 0 || d.pending() > 0) {
                out().println(d.pending() + " pending, " + d.dropped() + " dropped since the daemon started (queue full)");
            }
            return ExitCodes.OK;
        }
    }
}
