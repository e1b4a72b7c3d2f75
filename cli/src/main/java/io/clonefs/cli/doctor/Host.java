package io.clonefs.cli.doctor;

import io.clonefs.fuse.protocol.LibfuseCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What {@link Doctor} looks at on a host, each a path or value a test can point elsewhere.
 *
 * @param devFuse    the FUSE device ({@code /dev/fuse})
 * @param fuseConf   libfuse's configuration ({@code /etc/fuse.conf})
 * @param mountinfo  the mount table ({@code /proc/self/mountinfo}): the pool's filesystem, cgroups
 * @param tcpTables  the listening sockets ({@code /proc/net/tcp}, {@code /proc/net/tcp6})
 * @param passwd     the users ({@code /etc/passwd}): the postgres user
 * @param meminfo    the memory ({@code /proc/meminfo}): room for servers to start
 * @param env        the environment: {@code PATH}, {@code CLONEFS_PG_BIN}, {@code CLONEFS_PG_PORTS},
 *                   {@code CLONEFS_CGROUP_ROOT}, {@code CLONEFS_POOL}
 * @param uid        the user doctor runs as (0: root)
 * @param java       the feature version of the Java that runs clonefs
 * @param libfuse    loads libfuse 2: empty when it loads, else why not
 */
public record Host(Path devFuse, Path fuseConf, Path mountinfo, List<Path> tcpTables, Path passwd, Path meminfo,
                   Map<String, String> env, long uid, int java, Supplier<Optional<String>> libfuse) {

    /** This host. */
    public static Host real() {
        return new Host(Path.of("/dev/fuse"), Path.of("/etc/fuse.conf"), Path.of("/proc/self/mountinfo"),
                List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6")), Path.of("/etc/passwd"),
                Path.of("/proc/meminfo"), System.getenv(),
                currentUid(), Runtime.version().feature(), LibfuseCheck::problem);
    }





    /** An environment variable, null when unset or blank. */
    String env(String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v;
    }

    /** The first executable {@code name} in a directory of {@code PATH}, if any. */
    Optional<Path> onPath(String name) {
        String path = env("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, name);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /** A file's lines, empty when it cannot be read. */
    static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static long currentUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
