package io.clonefs.metadata;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.FileChannels;
import io.clonefs.base.LibC;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The metadata intent log: makes one file's {@code fsync} durable with one append and one
 * {@code fdatasync}, where an LMDB commit needs a page write, an {@code fdatasync}, a meta-page
 * write and a second {@code fdatasync}. A record holds the LMDB writes of one or more metadata
 * batches; the next LMDB commit applies every logged batch and starts a new <em>generation</em>
 * of the log in the same transaction, so a record is applied exactly once: by that commit, or by
 * {@link #recover} when the pool is opened after a crash.
 *
 * <p>The file is written from its start in each generation and grows only in whole zero-filled
 * chunks made durable before use, so the {@code fdatasync} of an append writes no file-system
 * metadata (the file's size and extents do not change). A record is
 * {@code magic, generation, sequence, length, CRC32C, payload}; recovery reads records of the
 * current generation with consecutive sequence numbers from offset 0 and stops at the first that
 * does not fit (a torn append, whose {@code fsync} never returned, or an older generation's bytes).
 *
 * <p>A record may also carry the bytes of blocks ({@code DATA}): a small fsync then needs one
 * write and one {@code fdatasync} (of the log), not a write-back of its blocks as well. Recovery
 * writes those bytes into the block files ({@link DataSink}) and makes them durable before the
 * LMDB transaction that ends the generation; {@link MetaStore} keeps the rules that make that
 * safe (a block whose bytes a record holds is not freed, nor synced in place, before then).
 *
 * <p>Thread rules: not thread-safe; {@link MetaStore} calls it under its commit lock.
 */
public final class IntentLog implements AutoCloseable {
    /** The log's file name in the metadata directory. */
    public static final String FILE_NAME = "intent.log";
    /** Largest log: a record that does not fit goes to LMDB instead (which empties the log). */
    public static final long DEFAULT_CAPACITY = 64L << 20;
    private static final int CHUNK = 4 << 20;
    private static final int MAGIC = 0x434C494C; // "CLIL"
    private static final int HEADER = 4 + 8 + 8 + 4 + 4;
    private static final byte PUT = 1;
    private static final byte DELETE = 2;
    private static final byte DATA = 3;
    /** Bytes a record's {@code DATA} entry takes besides the block's bytes: operation, block id, length. */
    static final int DATA_OVERHEAD = 1 + 8 + 4;

    /** Where recovery puts the block bytes records carry: into the block files, durably by {@link #sync}. */
    public interface DataSink {
        /** Writes the whole block {@code id} (later calls for the same block win). */
        void write(long id, byte[] bytes);

        /** Makes every {@link #write} durable. */
        void sync();
    }

    private final Path file;
    private final FileChannel ch;
    private final long capacity;
    private long allocated;
    private long generation;
    private long sequence;
    private long position;
    /** The end of the record {@link #write} wrote and {@link #force} has not made durable yet, or -1. */
    private long pending = -1;
    /** A raw descriptor for sync_file_range, opened on first use, or -1. */
    private int fd = -1;
    private boolean broken;

    private IntentLog(Path file, FileChannel ch, long capacity, long generation) throws IOException {
        this.file = file;
        this.ch = ch;
        this.capacity = capacity;
        this.generation = generation;
        this.allocated = ch.size() / CHUNK * CHUNK;
    }

    /**
     * Applies the records of the current generation (if any) to LMDB in one transaction that also
     * starts the next generation; returns the generation to write with. Call once, right after
     * LMDB is opened and before anything reads the pool's metadata.
     */
    public static long recover(Lmdb lmdb, Path file) {
        return recover(lmdb, file, null);
    }

    /**
     * As {@link #recover(Lmdb, Path)}; block bytes the records carry go to {@code data} (written
     * in record order and made durable) before the LMDB transaction. A record with block bytes and
     * no {@code data} to put them is an error: nothing is applied.
     */
    public static long recover(Lmdb lmdb, Path file, DataSink data) {
        long gen = generation(lmdb);
        if (!Files.exists(file)) {
            return gen;
        }
        List<byte[]> payloads = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long pos = 0;
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate(HEADER);
            for (long seq = 0; pos + HEADER <= size; seq++) {
                head.clear();
                readFully(ch, head, pos);
                head.flip();
                int magic = head.getInt();
                long g = head.getLong();
                long s = head.getLong();
                int len = head.getInt();
                int crc = head.getInt();
                if (magic != MAGIC || g != gen || s != seq || len < 0 || pos + HEADER + len > size) {
                    break;
                }
                ByteBuffer payload = ByteBuffer.allocate(len);
                readFully(ch, payload, pos + HEADER);
                if (crc(g, s, len, payload.array()) != crc) {
                    break;
                }
                payloads.add(payload.array());
                pos += HEADER + len;
            }
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read the intent log " + file + ": " + e.getMessage(), e);
        }
        if (payloads.isEmpty()) {
            return gen;
        }
        // the blocks' bytes first: the transaction below ends the generation, after which no
        // record is read again
        boolean anyData = false;
        for (byte[] p : payloads) {
            anyData |= replay(null, p, data);
        }
        if (anyData) {
            data.sync();
        }
        long next = gen + 1;
        lmdb.write(w -> {
            for (byte[] p : payloads) {
                replay(w, p, null);
            }
            w.put(Schema.Db.META, Schema.MetaKey.INTENT_LOG_GENERATION.key(), Schema.u64(next));
        });
        return next;
    }

    /** The generation LMDB expects the log's records to carry (0 in a pool that never had a log). */
    public static long generation(Lmdb lmdb) {
        byte[] v = lmdb.read(r -> r.get(Schema.Db.META, Schema.MetaKey.INTENT_LOG_GENERATION.key()));
        return v == null ? 0 : Schema.u64(v);
    }

    /** Opens (creating) the log file to write records of {@code generation} from its start. */
    public static IntentLog open(Path file, long generation, long capacity) {
        try {
            FileChannel ch = FileChannels.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            return new IntentLog(file, ch, capacity, generation);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot open the intent log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Whether a record with a payload of {@code length} bytes fits, and the log still works. */
    boolean fits(int length) {
        return !broken && position + HEADER + length <= capacity;
    }

    /** Whether records were appended in this generation (the next LMDB commit must start a new one). */
    boolean hasRecords() {
        return sequence > 0 || broken;
    }

    long generation() {
        return generation;
    }

    /** Bytes used in this generation. */
    long used() {
        return position;
    }

    /**
     * Appends one record: writes it after the last durable one and starts its write-out to the
     * disk ({@code sync_file_range(WRITE)}), without waiting for it. Then
     * either {@link #force} makes it durable and the next record follows it, or {@link #discard}
     * takes it back. Needs {@link #fits}; on an error the log stops taking records until the next
     * generation.
     */
    void write(byte[] payload) {
        if (!fits(payload.length)) {
            throw new IllegalStateException("intent log record does not fit");
        }
        long end = position + HEADER + payload.length;
        ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length);
        b.putInt(MAGIC).putLong(generation).putLong(sequence).putInt(payload.length)
                .putInt(crc(generation, sequence, payload.length, payload)).put(payload).flip();
        try {
            if (end > allocated) {
                grow(end);
            }
            long pos = position;
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
        } catch (IOException e) {
            broken = true;
            throw new ClonefsException.IoFailure("intent log write failed: " + e.getMessage(), e);
        }
        pending = end;
        startWriteOut(position, end - position);
    }

    /** Makes the record {@link #write} wrote durable; the next record goes after it. */
    void force() {
        if (pending < 0) {
            throw new IllegalStateException("no intent log record written");
        }
        try {
            ch.force(false);
        } catch (IOException e) {
            broken = true;
            pending = -1;
            throw new ClonefsException.IoFailure("intent log write failed: " + e.getMessage(), e);
        }
        position = pending;
        pending = -1;
        sequence++;
    }

    /**
     * Takes back the record {@link #write} wrote, whose {@code fsync} fails (the data it points
     * at did not reach the disk): its magic is overwritten, so that recovery stops before it, and
     * the next record takes its place. If even that fails, the log stops taking records until the
     * next generation, whose LMDB commit makes the bytes left here stale.
     */
    void discard() {
        if (pending < 0) {
            return;
        }
        pending = -1;
        try {
            ByteBuffer zero = ByteBuffer.allocate(4);
            long pos = position;
            while (zero.hasRemaining()) {
                pos += ch.write(zero, pos);
            }
        } catch (IOException e) {
            broken = true;
        }
    }

    /**
     * Starts writing the range out so that its trip to the disk overlaps the caller's other
     * writes; the {@code fdatasync} of {@link #force} waits for it. Best effort: without the C
     * library the {@code fdatasync} does it all.
     */
    private void startWriteOut(long from, long length) {
        try {
            if (fd < 0) {
                fd = LibC.get().open(file.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
                if (fd < 0) {
                    return;
                }
            }
            LibC.get().sync_file_range(fd, from, length, LibC.SYNC_FILE_RANGE_WRITE);
        } catch (LinkageError | RuntimeException e) {
            // no raw descriptor: force's fdatasync writes the record out
        }
    }

    /** The logged batches are in LMDB, which now expects {@code next}: write from the start again. */
    void restart(long next) {
        pending = -1;
        generation = next;
        sequence = 0;
        position = 0;
        broken = false;
    }

    /** Zero-fills whole chunks up to {@code end} and makes them durable, so appends change no metadata. */
    private void grow(long end) throws IOException {
        long target = Math.min(capacity, (end + CHUNK - 1) / CHUNK * CHUNK);
        ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
        for (long at = allocated; at < target; at += CHUNK) {
            zeros.clear();
            zeros.limit((int) Math.min(CHUNK, target - at));
            long pos = at;
            while (zeros.hasRemaining()) {
                pos += ch.write(zeros, pos);
            }
        }
        ch.force(true);
        allocated = target;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            LibC.get().close(fd);
            fd = -1;
        }
        try {
            ch.close();
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot close the intent log " + file + ": " + e.getMessage(), e);
        }
    }

    private static int crc(long gen, long seq, int len, byte[] payload) {
        CRC32C c = new CRC32C();
        ByteBuffer h = ByteBuffer.allocate(20).putLong(gen).putLong(seq).putInt(len);
        c.update(h.array());
        c.update(payload, 0, len);
        return (int) c.getValue();
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                return;
            }
            pos += n;
        }
    }

    /**
     * Applies a record's LMDB writes to {@code w} (if not null) and its block bytes to {@code data}
     * (if not null); true if it carries block bytes.
     */
    private static boolean replay(Lmdb.Writer w, byte[] payload, DataSink data) {
        ByteBuffer b = ByteBuffer.wrap(payload);
        Schema.Db[] dbs = Schema.Db.values();
        boolean any = false;
        while (b.hasRemaining()) {
            byte op = b.get();
            if (op == DATA) {
                long id = b.getLong();
                byte[] bytes = new byte[b.getInt()];
                b.get(bytes);
                any = true;
                if (w == null) {
                    if (data == null) {
                        throw new ClonefsException.IoFailure("the intent log holds block bytes and nothing can write them", null);
                    }
                    data.write(id, bytes);
                }
                continue;
            }
            Schema.Db db = dbs[b.get()];
            byte[] key = new byte[b.getInt()];
            b.get(key);
            if (op == PUT) {
                byte[] value = new byte[b.getInt()];
                b.get(value);
                if (w != null) {
                    w.put(db, key, value);
                }
            } else if (op == DELETE) {
                if (w != null) {
                    w.delete(db, key);
                }
            } else {
                throw new ClonefsException.IoFailure("intent log record damaged (operation " + op + ")", null);
            }
        }
        return any;
    }

    /** Records the LMDB writes of batches as a record's payload, in order. */
    static final class Recorder implements Lmdb.Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);

        @Override
        public void put(Schema.Db db, byte[] key, byte[] value) {
            head(PUT, db, key);
            writeInt(value.length);
            out.write(value, 0, value.length);
        }

        @Override
        public void delete(Schema.Db db, byte[] key) {
            head(DELETE, db, key);
        }

        @Override
        public byte[] get(Schema.Db db, byte[] key) {
            throw new UnsupportedOperationException("a batch is recorded, not read");
        }

        @Override
        public void forEach(Schema.Db db, Lmdb.KeyValueVisitor visitor) {
            throw new UnsupportedOperationException("a batch is recorded, not read");
        }

        /** The whole block {@code id} holds {@code bytes} (a record's block bytes; see {@link DataSink}). */
        void data(long id, byte[] bytes) {
            out.write(DATA);
            writeInt((int) (id >>> 32));
            writeInt((int) id);
            writeInt(bytes.length);
            out.write(bytes, 0, bytes.length);
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        /** Bytes recorded so far. */
        int size() {
            return out.size();
        }

        private void head(byte op, Schema.Db db, byte[] key) {
            out.write(op);
            out.write(db.ordinal());
            writeInt(key.length);
            out.write(key, 0, key.length);
        }

        private void writeInt(int v) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
        }
    }
}
