package io.clonefs.compare;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Everything one run measured: per source size, per method. */
public final class Results {
    /**
     * One method at one size.
     *
     * @param createSeconds     wall time from the start of the copy to the first answered query (for the filesystem
     *                          clone: to the end of the {@code clonefs clone} command)
     * @param perCopyBytes      additional bytes on disk of one copy
     * @param parallelSeconds   wall time of N simultaneous copies (all answering)
     * @param parallelBytes     additional bytes of those N copies together
     * @param extrapolated      null when the N copies were made; else how the two numbers above were derived
     * @param tpsSelect         pgbench select-only TPS on the copy (0 when the method yields no server)
     * @param tpsReadWrite      pgbench read-write (TPC-B-like) TPS on the copy
     * @param detail            what exactly was timed (sub-steps)
     */
    public record Row(Method method, double createSeconds, long perCopyBytes, double parallelSeconds, long parallelBytes,
                      String extrapolated, double tpsSelect, double tpsReadWrite, String detail) {
    }

    /** One source size. */
    public static final class Size {
        public final String label;
        public final long targetBytes;
        public final int scale;
        public long databaseBytes;
        /** Pool bytes in use with the source alone on it (the whole cluster: every database, WAL). */
        public long sourcePoolBytes;
        public double initSeconds;
        /** Wall time of this size's whole measurement: build the source, every method, pgbench, clean-up. */
        public double sizeSeconds;
        public double sourceTpsSelect;
        public double sourceTpsReadWrite;
        public final Map<Method, Row> rows = new EnumMap<>(Method.class);

        Size(String label, long targetBytes, int scale) {
            this.label = label;
            this.targetBytes = targetBytes;
            this.scale = scale;
        }
    }

    public final List<Size> sizes = new ArrayList<>();
    public final List<String> notes = new ArrayList<>();
    public int parallel;
    public int pgbenchSeconds;
    public int clients;
    public boolean branchCommand;
    public double totalSeconds;
}
