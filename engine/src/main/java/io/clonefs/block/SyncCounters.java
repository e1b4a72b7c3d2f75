package io.clonefs.block;

import io.clonefs.metrics.Metrics;
import java.util.concurrent.atomic.LongAdder;

/**
 * The block store's sync counters ({@code clonefs_block_syncs_total}), one per kind of sync.
 *
 * <p>Thread rules: the counters are lock-free.
 *
 * @param wholeFile  block files fdatasync'd whole ({@link BlockFile#force})
 * @param range      runs of blocks synced by {@code sync_file_range} ({@link RangeSync})
 * @param cacheFlush disk write cache flushes, fdatasyncs of the barrier file ({@link RangeSync})
 */
record SyncCounters(LongAdder wholeFile, LongAdder range, LongAdder cacheFlush) {
    private static final String NAME = "clonefs_block_syncs_total";
    private static final String HELP = "Block store syncs: whole block files fdatasync'd, block runs synced by range, disk cache flushes.";

    /** Registers (or finds) the three counters in {@code metrics}. */
    static SyncCounters register(Metrics metrics) {
        return new SyncCounters(metrics.counter(NAME, HELP, "kind", "whole_file"), metrics.counter(NAME, HELP, "kind", "range"),
                metrics.counter(NAME, HELP, "kind", "cache_flush"));
    }
}
