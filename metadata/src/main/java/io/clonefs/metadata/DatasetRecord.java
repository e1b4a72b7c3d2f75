package io.clonefs.metadata;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A volume or snapshot: a named root pointer into the node tree.
 *
 * @param name      {@code volume} or {@code volume@snap}
 * @param snapshot  true for a (read-only) snapshot
 * @param id        unique, never reused
 * @param root      node id of the tree's root; the record holds one reference to it
 * @param createdMs creation time, milliseconds since the epoch
 * @param origin    for a clone: the snapshot it came from ({@code volume@snap}); else empty
 */
public record DatasetRecord(String name, boolean snapshot, long id, long root, long createdMs, String origin) {
    public DatasetRecord withRoot(long newRoot) {
        return new DatasetRecord(name, snapshot, id, newRoot, createdMs, origin);
    }

    public byte[] encode() {
        byte[] o = origin.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 8 + 8 + 8 + 2 + o.length)
                .put((byte) (snapshot ? 1 : 0)).putLong(id).putLong(root).putLong(createdMs)
                .putShort((short) o.length).put(o).array();
    }

    public static DatasetRecord decode(String name, byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        boolean snap = bb.get() == 1;
        long id = bb.getLong();
        long root = bb.getLong();
        long created = bb.getLong();
        byte[] o = new byte[bb.getShort() & 0xffff];
        bb.get(o);
        return new DatasetRecord(name, snap, id, root, created, new String(o, StandardCharsets.UTF_8));
    }
}
