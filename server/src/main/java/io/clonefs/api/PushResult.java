package io.clonefs.api;

/**
 * The outcome of a push.
 *
 * @param alreadyPushed true when the remote held this snapshot already: nothing was done
 * @param blocks        extents of the snapshot
 * @param uploadedBlocks unique blocks uploaded by this push (the rest were found on the remote)
 * @param resumedPacks  packs an interrupted earlier run had uploaded, reused
 */
public record PushResult(String snapshot, String remote, String manifest, boolean alreadyPushed, long items, long blocks,
                         long uploadedBlocks, long uploadedBytes, long packs, long resumedPacks, double seconds) {
}
