package io.clonefs.cli;

import io.clonefs.api.UiApi;
import io.clonefs.cli.common.CliException;
import io.clonefs.cli.common.Output;
import io.clonefs.daemon.DaemonClient;
import java.time.Duration;
import picocli.CommandLine.Command;

@Command(name = "ui", mixinStandardHelpOptions = true, description = {"Print the address of the web console the daemon serves",
    "on its control port (loopback only), with a one-time sign-in link: good once, for 2 minutes.",
    "Or sign in at the address with the pool's token (POOL/daemon.token)."},
        footerHeading = "%nExamples:%n",
        footer = {"  clonefs ui",
            "  ssh -L PORT:127.0.0.1:PORT host    # from another machine: forward the control port, same number"})
final class UiCommand extends BaseCommand {
    @Override
    public Integer call() {
        DaemonClient d = DaemonClient.find(pool()).orElseThrow(() -> new CliException(ExitCodes.GENERAL,
                "no daemon serves pool " + pool() + " (start one with 'clonefs mount')"));
        UiApi.LoginLink link = d.http().call("POST", "/v1/ui/links", null, UiApi.LoginLink.class, Duration.ofSeconds(30));
        if (json()) {
            Output.json(out(), link);
            return ExitCodes.OK;
        }
        out().println("console:  " + link.url());
        out().println("sign in:  " + link.loginUrl() + "   (one use, " + link.expiresInSeconds() / 60 + " min)");
        return ExitCodes.OK;
    }
}
