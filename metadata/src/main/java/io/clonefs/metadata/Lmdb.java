package io.clonefs.metadata;

import io.clonefs.engine.ClonefsException;
import java.io.File;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.lmdbjava.ByteArrayProxy;
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
 * <p>The map grows on demand: a write that hits {@code MDB_MAP_FULL} is aborted, the map is doubled
 * while no transaction is active (a read-write lock keeps them out), and the write is retried.
 * Thread rules: any thread may read; writes are serialised by LMDB itself.
 */
public final class Lmdb implements AutoCloseable {
    private static final long INITIAL_MAP_SIZE = 256L << 20;
    private static final long MAX_MAP_SIZE = 1L << 44;

    private final Env<byte[]> env;
    private final ReentrantReadWriteLock resize = new ReentrantReadWriteLock();
    private final Dbi<byte[]>[] dbis;
    private volatile long mapSize;
    private boolean closed;

    @SuppressWarnings("unchecked")
    private Lmdb(File dir, long initialMapSize) {
        this.mapSize = Math.max(initialMapSize, new File(dir, "data.mdb").length() * 2);
        try {
            env = Env.create(ByteArrayProxy.PROXY_BA)
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
        try (Txn<byte[]> txn = env.txnRead()) {
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
            try (Txn<byte[]> txn = env.txnWrite()) {
                body.accept(new View(txn));
                txn.commit();
                return;
            } catch (Env.MapFullException e) {
                full = true;
            } catch (LmdbException e) {
                if (String.valueOf(e.getMessage()).contains("No space left")) {
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

    private final class View implements Writer {
        private final Txn<byte[]> txn;

        View(Txn<byte[]> txn) {
            this.txn = txn;
        }

        @Override
        public byte[] get(Schema.Db db, byte[] key) {
            return dbis[db.ordinal()].get(txn, key);
        }

        @Override
        public void forEach(Schema.Db db, KeyValueVisitor visitor) {
            try (var it = dbis[db.ordinal()].iterate(txn)) {
                for (var kv : it) {
                    if (!visitor.visit(kv.key(), kv.val())) {
                        return;
                    }
                }
            }
        }

        @Override
        public void put(Schema.Db db, byte[] key, byte[] value) {
            dbis[db.ordinal()].put(txn, key, value);
        }

        @Override
        public void delete(Schema.Db db, byte[] key) {
            dbis[db.ordinal()].delete(txn, key);
        }
    }
}
