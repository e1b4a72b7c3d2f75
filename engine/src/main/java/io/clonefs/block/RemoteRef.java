package io.clonefs.block;

/**
 * Where the bytes of one remote-backed block live in an object store: slot {@code slot} (byte
 * offset {@code slot * blockSize}) of pack object number {@code pack} of an import, checked
 * against {@code sha256} (32 bytes) whenever fetched.
 */
public record RemoteRef(int pack, int slot, byte[] sha256) {
    public RemoteRef {
        if (pack < 0 || slot < 0 || sha256 == null || sha256.length != 32) {
            throw new IllegalArgumentException("bad remote block reference");
        }
    }
}
