package io.clonefs.cli;

import io.clonefs.cli.common.Output;
import io.clonefs.cli.doctor.Doctor;
import io.clonefs.cli.doctor.Host;
import picocli.CommandLine.Command;

/** {@code clonefs doctor}: checks this host for what clonefs needs, without a daemon or a pool. */
@Command(name = "doctor", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  clonefs doctor", "  clonefs doctor --pool /srv/clonefs",
            "  clonefs doctor --json | jq '.checks[] | select(.status != \"OK\")'",
            "",
            "Exit codes: 0 nothing blocks clonefs (warnings may remain); 7 a check failed."},
        description = {"Check this host for what clonefs needs and say what to fix.",
            "The FUSE device and user_allow_other, libfuse 2, Java, PostgreSQL's programs (CLONEFS_PG_BIN),",
            "the user PostgreSQL runs as, the servers' port range (CLONEFS_PG_PORTS), room in memory for",
            "them, cgroups for limits, and the pool's filesystem and free space (when the pool exists or",
            "--pool names one). One line per check: OK, WARN (works, with a limitation) or FAIL (a",
            "blocker). Needs no daemon and no pool."})
final class DoctorCommand extends BaseCommand {
    @Override
    public Integer call() {
        boolean named = top.poolOption() != null || System.getenv("CLONEFS_POOL") != null;
        Doctor.Report r = new Doctor(Host.real()).run(pool(), named);
        if (json()) {
            Output.json(out(), r);
        } else {
            for (Doctor.Check c : r.checks()) {
                out().println(c.line());
            }
            out().println(r.ok() ? "clonefs can run here" + (r.warnings() > 0 ? " (" + r.warnings() + " warning"
                    + (r.warnings() > 1 ? "s" : "") + ")" : "")
                    : r.blockers() + " blocker" + (r.blockers() > 1 ? "s" : "") + ": fix the FAIL lines first");
        }
        out().flush();
        return r.ok() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }
}
