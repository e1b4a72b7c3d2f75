package io.clonefs.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The kernel's view of mounts, and removing stale FUSE mounts the way an operator would. */
public final class KernelMounts {
    private KernelMounts() {
    }

    /** True when {@code /proc/self/mountinfo} lists exactly this path as a mount point. */
    public static boolean isMounted(Path mp) {
        String want = mp.toAbsolutePath().normalize().toString().replace(" ", "\\040");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].equals(want)) {
                    return true;
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return false;
    }

    /** {@code fusermount -u}, then lazily ({@code -z}), then {@code umount -l}; true when gone. */
    public static boolean forceUnmount(Path mp) {
        String p = mp.toAbsolutePath().normalize().toString();
        for (List<String> cmd : List.of(List.of("fusermount", "-u", p), List.of("fusermount", "-u", "-z", p),
                List.of("umount", "-l", p))) {
            if (!isMounted(mp)) {
                return true;
            }
            try {
                Proc.run(cmd, java.util.Map.of(), Duration.ofSeconds(30));
            } catch (AssertionError | RuntimeException e) {
                // try the next way
            }
        }
        return !isMounted(mp);
    }
}
