package io.clonefs.bench;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What a benchmark outside this package (an integration test run by a {@code make bench-*}
 * target, such as {@code ConsoleLoadIT}) needs to write its section of BENCHMARKS.md the way the
 * benchmarks here do: the machine block and the section's replacement in the file.
 */
public final class BenchReport {
    private BenchReport() {
    }

    /** One line per fact: CPUs, memory, the disk under {@code dir}, disks, kernel, Java (as every section has). */
    public static String machine(Path dir) {
        return BenchSupport.machine(dir);
    }

    /** Replaces the text from {@code begin} to {@code end} (both included) with {@code section}, or appends it. */
    public static void replaceSection(Path file, String begin, String end, CharSequence section) throws IOException {
        BenchSupport.replaceSection(file, begin, end, section);
    }

    /** The host's load average over 1, 5 and 15 minutes, e.g. {@code "1.26 2.31 2.27"}. */
    public static String loadavg() {
        return BenchSupport.loadavg();
    }
}
