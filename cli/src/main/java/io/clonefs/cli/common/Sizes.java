package io.clonefs.cli.common;

import io.clonefs.base.ByteSizes;

/** Byte sizes as people write and read them: {@code 8K}, {@code 64k}, {@code 1MiB}; {@code 1.5 GiB} ({@link ByteSizes}). */
public final class Sizes {
    private Sizes() {
    }

    /** Parses a size; the suffixes K, M, G, T (any case, optionally followed by B or iB) are binary. */
    public static long parse(String s) {
        return ByteSizes.parse(s);
    }

    /** Formats bytes in binary units with at most one decimal: {@code 0 B}, {@code 8 KiB}, {@code 1.5 GiB}. */
    public static String format(long bytes) {
        return ByteSizes.format(bytes);
    }
}
