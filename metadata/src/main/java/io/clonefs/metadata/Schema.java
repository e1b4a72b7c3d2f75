package io.clonefs.metadata;

import java.nio.BufferUnderflowException;
import java.nio.charset.StandardCharsets;

/**
 * The pool's on-disk format: every LMDB database, its key layout and its value record. All
 * integers are fixed-width big-endian, so LMDB's byte order is numeric order.
 *
 * <table>
 * <caption>LMDB databases of a pool ({@code POOL/meta/data.mdb})</caption>
 * <tr><th>database</th><th>key</th><th>value</th></tr>
 * <tr><td>{@code meta}</td><td>ASCII name</td><td>u64 (see {@link MetaKey})</td></tr>
 * <tr><td>{@code nodes}</td><td>u64 node id</td><td>an encoded tree {@link Node}</td></tr>
 * <tr><td>{@code node_refs}</td><td>u64 node id</td><td>u64 reference count; absent means 1</td></tr>
 * <tr><td>{@code block_refs}</td><td>u64 block id</td><td>u64 reference count; absent means 1 for an allocated block</td></tr>
 * <tr><td>{@code free_blocks}</td><td>u64 block id</td><td>empty; blocks below the high-water mark that hold no data</td></tr>
 * <tr><td>{@code datasets}</td><td>UTF-8 name: {@code volume} or {@code volume@snap}</td><td>{@link DatasetRecord}</td></tr>
 * <tr><td>{@code reclaim}</td><td>u64 sequence</td><td>u64 node id whose reference the reclaimer still has to drop</td></tr>
 * </table>
 *
 * <p>Keys inside a volume's tree (one ordered key space per root, after Btrfs):
 * <table>
 * <caption>tree keys</caption>
 * <tr><th>item</th><th>key</th><th>value</th></tr>
 * <tr><td>super</td><td>{@code [0:u64][0:u8]}</td><td>u64 next inode number, u64 referenced blocks</td></tr>
 * <tr><td>inode</td><td>{@code [ino:u64][1:u8]}</td><td>{@link InodeRecord}</td></tr>
 * <tr><td>directory entry</td><td>{@code [dir ino:u64][2:u8][name:UTF-8]}</td><td>u64 child inode, u8 file type</td></tr>
 * <tr><td>extent</td><td>{@code [ino:u64][3:u8][block index:u64]}</td><td>u64 block id (one block per extent)</td></tr>
 * <tr><td>orphan</td><td>{@code [0:u64][4:u8][ino:u64]}</td><td>empty: an unlinked inode still open</td></tr>
 * </table>
 *
 * <p>Remote tier (blocks of snapshots imported from an object store, see {@code RemoteTier}):
 * <table>
 * <tr><th>db</th><th>key</th><th>value</th></tr>
 * <tr><td>remote_blocks</td><td>block id {@code u64}</td><td>{@code pack:u32 slot:u32 sha256[32] cached:u8}:
 * the block's bytes live in slot {@code slot} of pack {@code pack}; {@code cached=1} once a
 * verified copy is synced in the block files</td></tr>
 * <tr><td>remote_packs</td><td>pack number {@code u32}</td><td>{@code maxSlot:u32 remoteLen:u16 remote key}:
 * the object holding the pack and the highest slot any block uses</td></tr>
 * </table>
 * Both tables are additive: pools made before them open unchanged.
 */
public final class Schema {
    /** Bump on any change of the tables above; {@code open} refuses other versions. */
    public static final long FORMAT_VERSION = 1;

    private Schema() {
    }

    /** The LMDB databases. */
    public enum Db {
        META("meta"), NODES("nodes"), NODE_REFS("node_refs"), BLOCK_REFS("block_refs"),
        FREE_BLOCKS("free_blocks"), DATASETS("datasets"), RECLAIM("reclaim"),
        REMOTE_BLOCKS("remote_blocks"), REMOTE_PACKS("remote_packs");

        private final String dbName;

        Db(String dbName) {
            this.dbName = dbName;
        }

        public String dbName() {
            return dbName;
        }
    }

    /** Keys of the {@code meta} database. */
    public enum MetaKey {
        FORMAT_VERSION, BLOCK_SIZE, NEXT_NODE_ID, NEXT_DATASET_ID, BLOCK_HIGH_WATER, NEXT_RECLAIM_SEQ,
        /** The generation of {@link IntentLog} records not yet applied (absent: 0). */
        INTENT_LOG_GENERATION;

        public byte[] key() {
            return name().toLowerCase().getBytes(StandardCharsets.US_ASCII);
        }
    }

    public static byte[] u64(long v) {
        byte[] b = new byte[8];
        Keys.putLong(b, 0, v);
        return b;
    }

    /** The first 8 bytes of {@code b}, big-endian. */
    public static long u64(byte[] b) {
        if (b.length < 8) {
            throw new BufferUnderflowException();
        }
        return Keys.getLong(b, 0);
    }

    public static byte[] name(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String name(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
