package io.clonefs.remote;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * {@code P/manifests/VOLUME@SNAP.json}: what makes a pushed snapshot visible. Written last, after
 * every pack and listing object it names, so a half-done push is never seen.
 *
 * @param format     {@link #FORMAT}; a reader refuses any other
 * @param created    ISO-8601 time of the snapshot
 * @param pushed     ISO-8601 time of the push
 * @param packs      full object keys of the packs the listings index (packIndex)
 * @param listings   the listing objects, in key order of their items
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(int format, String volume, String snapshot, int blockSize, String created, String pushed,
                       List<String> packs, List<ListingObject> listings, Counts counts) {
    public static final int FORMAT = 1;

    /** One listing object: full key, SHA-256 (hex) of its stored (gzip'd) bytes and their number. */
    public record ListingObject(String key, String sha256, long bytes) {
    }

    /**
     * @param items         tree items of the snapshot
     * @param blocks        extents (blocks referenced, duplicates counted)
     * @param logicalBytes  {@code blocks * blockSize}
     * @param uploadedBytes bytes of packs this push uploaded (not those reused)
     * @param uploadedBlocks blocks in those packs
     */
    public record Counts(long items, long blocks, long logicalBytes, long uploadedBytes, long uploadedBlocks) {
    }

    public byte[] toJson() {
        try {
            return Remotes.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Manifest parse(byte[] json, String what) {
        Manifest m;
        try {
            m = Remotes.JSON.readValue(json, Manifest.class);
        } catch (IOException e) {
            throw new ClonefsException.InvalidArgument(what + " is not a clonefs manifest: " + e.getMessage());
        }
        if (m == null || m.format() != FORMAT) {
            throw new ClonefsException.InvalidArgument(what + " has format " + (m == null ? "?" : m.format())
                    + "; this clonefs reads format " + FORMAT);
        }
        if (m.packs() == null || m.listings() == null || m.blockSize() <= 0 || m.volume() == null || m.snapshot() == null) {
            throw new ClonefsException.InvalidArgument(what + " is incomplete");
        }
        return m;
    }
}
