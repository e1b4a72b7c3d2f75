package io.clonefs.remote;

import io.clonefs.api.RemoteApi;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/** Counters of a push in progress, readable from any thread (the CLI, {@code GET /v1/remotes/NAME/push}). */
public final class PushProgress {
    final String remote;
    final String snapshot;
    final long expectedBlocks;
    final long startNanos = System.nanoTime();
    final AtomicLong blocksScanned = new AtomicLong();
    final AtomicLong blocksRead = new AtomicLong();
    final AtomicLong blocksUploaded = new AtomicLong();
    final AtomicLong bytesUploaded = new AtomicLong();
    final AtomicLong packsUploaded = new AtomicLong();
    volatile String phase = "scanning";

    public PushProgress(String remote, String snapshot, long expectedBlocks) {
        this.remote = remote;
        this.snapshot = snapshot;
        this.expectedBlocks = expectedBlocks;
    }

    /** A snapshot of the counters, as served by the API. */
    public RemoteApi.PushView view() {
        double s = (System.nanoTime() - startNanos) / 1e9;
        long up = bytesUploaded.get();
        double mbps = s > 0 ? up / 1e6 / s : 0;
        return new RemoteApi.PushView(remote, snapshot, phase, blocksScanned.get(), expectedBlocks, blocksRead.get(), blocksUploaded.get(),
                up, packsUploaded.get(), s, mbps, line(s, up, mbps));
    }

    private String line(double s, long up, double mbps) {
        long scanned = blocksScanned.get();
        String pct = expectedBlocks > 0 ? String.format(Locale.ROOT, " (%d%%)", Math.min(100, scanned * 100 / expectedBlocks)) : "";
        return String.format(Locale.ROOT, "%s %s: %s, %d blocks scanned%s, %.1f MB uploaded in %d packs, %.1f MB/s, %.0f s",
                snapshot, remote, phase, scanned, pct, up / 1e6, packsUploaded.get(), mbps, s);
    }
}
