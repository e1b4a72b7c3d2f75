package io.clonefs.fuse.protocol;

import java.util.Optional;

/**
 * Whether libfuse 2 loads in this process the way a mount loads it ({@code libfuse.so.2}, else
 * {@code libfuse.so}), for {@code clonefs doctor}: nothing is mounted, no native type leaves.
 */
public final class LibfuseCheck {
    private LibfuseCheck() {
    }

    /** Empty when libfuse 2 loads with every call a mount makes; else why not. */
    public static Optional<String> problem() {
        try {
            Libfuse.lib();
            return Optional.empty();
        } catch (LinkageError | RuntimeException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }
}
