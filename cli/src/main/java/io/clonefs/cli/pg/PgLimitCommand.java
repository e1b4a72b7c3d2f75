package io.clonefs.cli.pg;

import io.clonefs.api.PgApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.cli.common.Sizes;
import io.clonefs.pg.limits.Limits;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code clonefs pg limit}: a server's memory limit, CPU weight and settings of its own, shown or changed. */
@Command(name = "limit", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
    footer = {"  clonefs pg limit pr-42 --memory 1GiB --cpu-weight 200", "  clonefs pg limit pr-42 --memory none",
        "  clonefs pg limit pr-42 --setting work_mem=16MB --unset max_connections", "  clonefs pg limit pr-42"},
    description = {"Show or change a server's limits. --memory and --cpu-weight take effect at once on a",
    "running server (its cgroup); settings at its next start (clonefs pg stop, then start).",
    "Options left out stay as they are; with none, the limits are shown."})
final class PgLimitCommand extends PgSubcommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--memory", paramLabel = "SIZE|none", description = "Memory limit, e.g. 512MiB (at least 64MiB), or none.")
    String memory;

    @Option(names = "--cpu-weight", paramLabel = "N", description = "CPU weight 1..10000 (100 is the default), or 0 for the default.")
    Integer cpuWeight;

    @Option(names = "--setting", paramLabel = "NAME=VALUE", description = "Add or replace a PostgreSQL setting of its own (repeatable).")
    List<String> settings;

    @Option(names = "--unset", paramLabel = "NAME", description = "Remove a setting of its own (repeatable).")
    List<String> unset;

    @Override
    int run() {
        checkName(name);
        PgApi.LimitsRequest req = request(memory, cpuWeight, settings, unset);
        PgApi.Server s = req == null ? client().get(name) : client().limits(name, req);
        if (json()) {
            printJson(s);
            return ErrorKind.ExitCode.OK;
        }
        PgApi.ServerLimits l = s.limits();
        out().println(s.name() + ": memory " + (l == null || l.memory() == null ? "unlimited" : Sizes.format(l.memory()))
                + ", cpu weight " + (l == null || l.cpuWeight() == null ? "default (100)" : l.cpuWeight())
                + (l == null || l.cgroup() == null ? "" : ", cgroup " + l.cgroup()));
        if (l != null) {
            new TreeMap<>(l.settings()).forEach((k, v) -> out().println("  " + k + "=" + v));
        }
        if (req != null && (settings != null || unset != null) && "running".equals(s.state())) {
            err().println("settings take effect at the next start of " + s.name());
        }
        out().flush();
        err().flush();
        return ErrorKind.ExitCode.OK;
    }

    /**
     * A limits request from the options, checked here as far as the client can (the daemon checks
     * again, and against the host); null when no option was given.
     */
    static PgApi.LimitsRequest request(String memory, Integer cpuWeight, List<String> settings, List<String> unset) {
        if (memory == null && cpuWeight == null && settings == null && unset == null) {
            return null;
        }
        Long bytes = memory == null || memory.strip().toLowerCase(Locale.ROOT).equals("none") ? null
                : Limits.parseMemory(memory);
        Map<String, String> set = null;
        if (settings != null) {
            set = new LinkedHashMap<>();
            for (String s : settings) {
                Map.Entry<String, String> e = Limits.parseSetting(s);
                set.put(e.getKey(), e.getValue());
            }
        }
        new Limits(bytes, cpuWeight == null || cpuWeight == 0 ? null : cpuWeight, set).checkValues();
        return new PgApi.LimitsRequest(memory, cpuWeight, set, unset);
    }
}
