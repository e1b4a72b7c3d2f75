package io.clonefs.pg.limits;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.clonefs.base.ByteSizes;
import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What one managed server may use and how it is configured beyond the manager's own settings: a
 * memory limit, a CPU weight and PostgreSQL settings of its own. Kept with the server's record
 * (absent in the state of older versions: no limits, no settings of its own). Immutable; a
 * request's limits are checked with {@link #validate()} (not on reading the state: a record
 * stays readable on a host with less RAM).
 *
 * @param memory    bytes of RAM its processes may use together (cgroup {@code memory.max}), or null: no limit
 * @param cpuWeight its share of CPU time when the CPUs are busy, 1..10000, 100 the default (cgroup
 *                  {@code cpu.weight}), or null: the default
 * @param settings  PostgreSQL settings passed as {@code -c name=value} after the manager's (and so
 *                  overriding a branch's small-branch defaults); never null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Limits(Long memory, Integer cpuWeight, Map<String, String> settings) {
    /** The lowest memory limit taken: below it PostgreSQL hardly starts. */
    public static final long MIN_MEMORY = 64L << 20;
    public static final int MIN_WEIGHT = 1;
    public static final int MAX_WEIGHT = 10_000;
    /** cgroup v2's default {@code cpu.weight}. */
    public static final int DEFAULT_WEIGHT = 100;
    /** No limit, no settings. */
    public static final Limits NONE = new Limits(null, null, Map.of());

    /**
     * Settings the manager sets itself (where the server listens, its files, what keeps a branch
     * away from its source's archive and standbys): refused as a server's own.
     */
    public static final Set<String> MANAGED_SETTINGS = Set.of("port", "listen_addresses", "unix_socket_directories",
            "data_directory", "config_file", "hba_file", "ident_file", "cluster_name", "archive_mode", "archive_command",
            "archive_library", "synchronous_standby_names", "primary_conninfo", "primary_slot_name", "restore_command",
            "hot_standby", "recovery_init_sync_method");

    private static final Pattern SETTING = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

    public Limits {
        settings = settings == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(settings));
    }

    /**
     * These limits, checked against this host ({@link #check}).
     *
     * @throws ClonefsException.InvalidArgument naming the value that makes no sense
     */
    public Limits validate() {
        check(memory, cpuWeight, settings, hostMemory());
        return this;
    }

    /** These limits, checked as far as can be without knowing the host (a client's check before it asks the daemon). */
    public Limits checkValues() {
        check(memory, cpuWeight, settings, 0);
        return this;
    }

    /** No limit and no setting. */
    @JsonIgnore
    public boolean none() {
        return memory == null && cpuWeight == null;
    }

    public Limits withMemory(Long bytes) {
        return new Limits(bytes, cpuWeight, settings);
    }

    public Limits withCpuWeight(Integer w) {
        return new Limits(memory, w, settings);
    }

    /** These settings added to (replacing) the ones there are. */
    public Limits withSettings(Map<String, String> more) {
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.putAll(more);
        return new Limits(memory, cpuWeight, s);
    }

    /** Without these settings. */
    public Limits withoutSettings(Iterable<String> names) {
        Map<String, String> s = new LinkedHashMap<>(settings);
        names.forEach(s::remove);
        return new Limits(memory, cpuWeight, s);
    }

    /** {@code limits}, or {@link #NONE} for null (a record written before limits existed). */
    public static Limits of(Limits limits) {
        return limits == null ? NONE : limits;
    }

    // ---- checks --------------------------------------------------------------------------------

    /**
     * Refuses a memory limit below {@link #MIN_MEMORY} or above the host's RAM, a weight outside
     * 1..10000, a setting that is not {@code name} or {@code class.name}, or one the manager sets.
     *
     * @param hostMemory the host's RAM in bytes (0: unknown, not checked)
     */
    static void check(Long memory, Integer cpuWeight, Map<String, String> settings, long hostMemory) {
        if (memory != null) {
            if (memory < MIN_MEMORY) {
                throw new ClonefsException.InvalidArgument("--memory " + human(memory) + " is too small: a server needs at least "
                        + human(MIN_MEMORY));
            }
            if (hostMemory > 0 && memory > hostMemory) {
                throw new ClonefsException.InvalidArgument("--memory " + human(memory) + " is more than this host's "
                        + human(hostMemory) + " of RAM");
            }
        }
        if (cpuWeight != null && (cpuWeight < MIN_WEIGHT || cpuWeight > MAX_WEIGHT)) {
            throw new ClonefsException.InvalidArgument("--cpu-weight " + cpuWeight + " is outside " + MIN_WEIGHT + ".."
                    + MAX_WEIGHT + " (100 is the default share)");
        }
        for (Map.Entry<String, String> e : settings.entrySet()) {
            checkSetting(e.getKey(), e.getValue());
        }
    }

    static void checkSetting(String name, String value) {
        if (name == null || !SETTING.matcher(name).matches()) {
            throw new ClonefsException.InvalidArgument("'" + name + "' is not a PostgreSQL setting name");
        }
        if (MANAGED_SETTINGS.contains(name.toLowerCase(Locale.ROOT))) {
            throw new ClonefsException.InvalidArgument("setting " + name + " is set by clonefs itself and cannot be changed");
        }
        if (value == null || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw new ClonefsException.InvalidArgument("the value of setting " + name + " must be one line");
        }
    }

    /** {@code NAME=VALUE} split (the value may be empty), checked. */
    public static Map.Entry<String, String> parseSetting(String nameEqualsValue) {
        int eq = nameEqualsValue == null ? -1 : nameEqualsValue.indexOf('=');
        if (eq <= 0) {
            throw new ClonefsException.InvalidArgument("'" + nameEqualsValue + "' is not NAME=VALUE (e.g. work_mem=64MB)");
        }
        String name = nameEqualsValue.substring(0, eq).strip();
        String value = nameEqualsValue.substring(eq + 1);
        checkSetting(name, value);
        return Map.entry(name, value);
    }

    /**
     * A memory size as people write it ({@link ByteSizes#parse}): {@code 512MiB}, {@code 512M},
     * {@code 1g}, {@code 2GB}, bytes without a suffix; K, M, G and T are binary.
     */
    public static long parseMemory(String s) {
        try {
            return ByteSizes.parse(s);
        } catch (ClonefsException.InvalidArgument e) {
            throw new ClonefsException.InvalidArgument("--memory " + e.getMessage());
        }
    }

    /**
     * The cgroup v1 {@code cpu.shares} of a cgroup v2 weight, as systemd converts it: weight × 1024
     * / 100 (so the default weight 100 is the default 1024 shares), within 2..262144.
     */
    public static long cpuShares(int weight) {
        return Math.max(2, Math.min(262_144, (long) weight * 1024 / DEFAULT_WEIGHT));
    }

    /** The host's RAM ({@code MemTotal} of {@code /proc/meminfo}), 0 when unknown. */
    public static long hostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("MemTotal:")) {
                    String[] f = line.split("\\s+");
                    return Long.parseLong(f[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** Bytes in binary units, as messages write them ({@link ByteSizes#format}). */
    public static String human(long bytes) {
        return ByteSizes.format(bytes);
    }
}
