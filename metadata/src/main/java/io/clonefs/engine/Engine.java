package io.clonefs.engine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An open pool: volumes, snapshots and clones over shared, refcounted blocks.
 * (API skeleton; implementation in progress.)
 */
public final class Engine implements AutoCloseable {
    public static final int DEFAULT_BLOCK_SIZE = 8192;

    private Engine() {
    }

    /** Creates an empty pool in {@code dir} (created if missing; must be empty). */
    public static void init(Path dir, int blockSize) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Opens a pool; only one process may have a pool open at a time. */
    public static Engine open(Path dir, EngineOptions options) {
        throw new UnsupportedOperationException("not yet");
    }

    public static Engine open(Path dir) {
        return open(dir, EngineOptions.defaults());
    }

    public Path directory() { throw new UnsupportedOperationException(); }

    public int blockSize() { throw new UnsupportedOperationException(); }

    /** Creates an empty volume (a root directory owned by root, mode 0755). Durable on return. */
    public VolumeInfo createVolume(String name) { throw new UnsupportedOperationException(); }

    /** Takes a crash-consistent snapshot of a volume at this instant. O(1). Durable on return. */
    public SnapshotInfo snapshot(String volume, String snapshot) { throw new UnsupportedOperationException(); }

    /** Creates a volume from a snapshot ({@code volume@snap}). O(1). Durable on return. */
    public VolumeInfo cloneVolume(String snapshot, String newVolume) { throw new UnsupportedOperationException(); }

    /**
     * Destroys a volume or a snapshot ({@code volume@snap}). Refused with
     * {@link ClonefsException.Conflict} while it has dependants (a volume's snapshots, a snapshot's
     * clones) unless {@code recursive}. Returns at once; blocks are reclaimed in the background.
     */
    public void destroy(String name, boolean recursive) { throw new UnsupportedOperationException(); }

    public List<VolumeInfo> volumes() { throw new UnsupportedOperationException(); }

    public List<SnapshotInfo> snapshots() { throw new UnsupportedOperationException(); }

    public VolumeInfo volumeInfo(String name) { throw new UnsupportedOperationException(); }

    public SnapshotInfo snapshotInfo(String fullName) { throw new UnsupportedOperationException(); }

    /** The writable filesystem of a volume. */
    public VolumeFs volume(String name) { throw new UnsupportedOperationException(); }

    /** The read-only filesystem of a snapshot ({@code volume@snap}). */
    public VolumeFs snapshotFs(String fullName) { throw new UnsupportedOperationException(); }

    public SpaceInfo space() { throw new UnsupportedOperationException(); }

    /** Referenced and unique bytes of a volume or snapshot. */
    public VolumeSpace space(String name) { throw new UnsupportedOperationException(); }

    /** Makes everything done so far durable (block data, then one metadata commit). */
    public void sync() { throw new UnsupportedOperationException(); }

    /** Recomputes every reference count from every root and compares with what is stored. */
    public FsckReport fsck() { throw new UnsupportedOperationException(); }

    /** Waits until the reclaimer has drained its queue and the freed blocks are durable. */
    public boolean awaitReclaim(Duration timeout) { throw new UnsupportedOperationException(); }

    /** Commits, stops background work and closes. Idempotent. */
    @Override
    public void close() { }
}
