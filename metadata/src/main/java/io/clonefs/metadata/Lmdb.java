package io.clonefs.metadata;

import io.clonefs.base.ClonefsException;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

/**
 * The LMDB environment of a pool and the only door to it: {@link #read} and {@link #write} own
 * begin, commit and abort. Values are {@code byte[]} copies, valid after the transaction ends.
 *
 * <p>Keys and values cross into LMDB through direct buffers owned by this class (one set per
 * thread), never through lmdbjava's {@code ByteArrayProxy}: in lmdbjava 0.9.1 that proxy lets the
 * native copy of a key be freed by the garbage collector during the call (lmdbjava issue 252;
 * seen here as a SIGSEGV in {@code mdb_put}), and 0.9.2's bundled library needs a newer glibc
 * than Debian 12 has.
 *
 * <p>The map grows on demand: a write that hits {@code MDB_MAP_FULL} is aborted, the map is doubled
 * while no transaction is active (a read-write lock keeps them out), and the write is retried.
 * Thread rules: any thread may read; writes are serialised by LMDB itself.
 */
public final class Lmdb implements AutoCloseable {
    private static final long INITIAL_MAP_SIZE = 256L << 20;
    private static final long MAX_MAP_SIZE = 1L << 44;

    private final Env<ByteBuffer> env;
    private final ReentrantReadWriteLock resize = new ReentrantReadWriteLock();
    private final Dbi<ByteBuffer>[] dbis;
    private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);
    private volatile long mapSize;
    private boolean closed;

    @SuppressWarnings("unchecked")
    private final File dir;

    private Lmdb(File dir, long initialMapSize) {
        this.dir = dir;
        this.mapSize = Math.max(initialMapSize, new File(dir, "data.mdb").length() * 2);
        try {
            env = Env.create()
                    .setMapSize(mapSize)
                    .setMaxDbs(Schema.Db.values().length + 1)
                    .setMaxReaders(1024)
                    .open(dir, EnvFlags.MDB_NOTLS);
        } catch (LmdbException e) {
            throw new ClonefsException.IoFailure("cannot open LMDB in " + dir + ": " + e.getMessage(), e);
        }
        dbis = new Dbi[Schema.Db.values().length];
        for (Schema.Db db : Schema.Db.values()) {
            dbis[db.ordinal()] = env.openDbi(db.dbName(), DbiFlags.MDB_CREATE);
        }
    }

    /** Opens (creating if needed) the environment in directory {@code dir}. */
    public static Lmdb open(File dir) {
        return open(dir, INITIAL_MAP_SIZE);
    }

    /** Opens with a given first map size (it still grows on demand). */
    public static Lmdb open(File dir, long initialMapSize) {
        if (!dir.isDirectory() && !dir.mkdirs()) {
            throw new ClonefsException.IoFailure("cannot create " + dir, null);
        }
        return new Lmdb(dir, initialMapSize);
    }

    /** The current map size in bytes. */
    public long mapSize() {
        return mapSize;
    }

    /** A read-only view of one transaction. */
    public interface Reader {
        byte[] get(Schema.Db db, byte[] key);

        /** Calls {@code visitor} for every entry in key order until it returns false. */
        void forEach(Schema.Db db, KeyValueVisitor visitor);
    }

    /** A read-write view of one transaction. */
    public interface Writer extends Reader {
        void put(Schema.Db db, byte[] key, byte[] value);

        void delete(Schema.Db db, byte[] key);
    }

    @FunctionalInterface
    public interface KeyValueVisitor {
        boolean visit(byte[] key, byte[] value);
    }

    public <T> T read(Function<Reader, T> body) {
        resize.readLock().lock();
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            return body.apply(new View(txn));
        } catch (LmdbException e) {
            throw new ClonefsException.IoFailure("metadata read failed: " + e.getMessage(), e);
        } finally {
            resize.readLock().unlock();
        }
    }

    /** Runs {@code body} in a write transaction and commits it durably (LMDB syncs on commit). */
    public void write(Consumer<Writer> body) {
        while (true) {
            resize.readLock().lock();
            boolean full = false;
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                body.accept(new View(txn));
                txn.commit();
                return;
            } catch (Env.MapFullException e) {
                full = true;
            } catch (LmdbException e) {
                // LMDB reports a short write (what a full disk causes mid-page) as EIO
                if (String.valueOf(e.getMessage()).contains("No space left") || diskNearlyFull()) {
                    throw new ClonefsException.NoSpace("metadata write failed: the pool's disk is full", e);
                }
                throw new ClonefsException.IoFailure("metadata write failed: " + e.getMessage(), e);
            } finally {
                resize.readLock().unlock();
            }
            if (full) {
                grow();
            }
        }
    }

    private boolean diskNearlyFull() {
        try {
            return Files.getFileStore(dir.toPath()).getUsableSpace() < (4 << 20);
        } catch (IOException e) {
            return false;
        }
    }

    private void grow() {
        resize.writeLock().lock();
        try {
            long next = mapSize * 2;
            if (next > MAX_MAP_SIZE) {
                throw new ClonefsException.NoSpace("metadata map reached its limit of " + MAX_MAP_SIZE + " bytes", null);
            }
            env.setMapSize(next);
            mapSize = next;
        } catch (LmdbException e) {
            throw new ClonefsException.NoSpace("cannot grow the metadata map: " + e.getMessage(), e);
        } finally {
            resize.writeLock().unlock();
        }
    }

    /** Bytes the environment's data file occupies. */
    public long fileBytes() {
        return env.info().lastPageNumber * (long) env.stat().pageSize;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            env.close();
        }
    }

    /** Direct buffers of one thread for keys and values passed to LMDB. */
    private static final class Buffers {
        ByteBuffer key = ByteBuffer.allocateDirect(512);
        ByteBuffer value = ByteBuffer.allocateDirect(8192);

        ByteBuffer key(byte[] k) {
            if (k.length > key.capacity()) {
                key = ByteBuffer.allocateDirect(k.length);
            }
            key.clear();
            key.put(k).flip();
            return key;
        }

        ByteBuffer value(byte[] v) {
            if (v.length > value.capacity()) {
                value = ByteBuffer.allocateDirect(Math.max(v.length, value.capacity() * 2));
            }
            value.clear();
            value.put(v).flip();
            return value;
        }
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private final class View implements Writer {
        private final Txn<ByteBuffer> txn;
        private final Buffers buf = buffers.get();

        View(Txn<ByteBuffer> txn) {
            this.txn = txn;
        }

        @Override
        public byte[] get(Schema.Db db, byte[] key) {
            ByteBuffer v = dbis[db.ordinal()].get(txn, buf.key(key));
            return v == null ? null : copy(v);
        }

        @Override
        public void forEach(Schema.Db db, KeyValueVisitor visitor) {
            try (var it = dbis[db.ordinal()].iterate(txn)) {
                for (var kv : it) {
                    if (!visitor.visit(copy(kv.key()), copy(kv.val()))) {
                        return;
                    }
                }
            }
        }

        @Override
        public void put(Schema.Db db, byte[] key, byte[] value) {
            dbis[db.ordinal()].put(txn, buf.key(key), buf.value(value));
        }

        @Override
        public void delete(Schema.Db db, byte[] key) {
            dbis[db.ordinal()].delete(txn, buf.key(key));
        }
    }
}
