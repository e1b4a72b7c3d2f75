package io.clonefs.metadata;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reference counts of nodes or of blocks: changes of the open batch, those of batches being
 * committed, those of batches durable in the {@link IntentLog} but not yet in LMDB, a cache of
 * clean values, then LMDB (where an absent row means 1).
 * Guarded by the {@link MetaStore} lock.
 */
final class RefTable {
    private final Lmdb lmdb;
    private final Schema.Db db;
    private HashMap<Long, Long> dirty = new HashMap<>();
    private HashMap<Long, Long> committing = new HashMap<>();
    private HashMap<Long, Long> logged = new HashMap<>();
    private final LinkedHashMap<Long, Long> cache;

    RefTable(Lmdb lmdb, Schema.Db db, int cacheSize) {
        this.lmdb = lmdb;
        this.db = db;
        this.cache = new LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Long> e) {
                return size() > cacheSize;
            }
        };
    }

    long get(long id) {
        Long v = dirty.get(id);
        if (v == null) {
            v = committing.get(id);
        }
        if (v == null) {
            v = logged.get(id);
        }
        if (v == null) {
            v = cache.get(id);
        }
        if (v == null) {
            byte[] b = lmdb.read(r -> r.get(db, Schema.u64(id)));
            v = b == null ? 1L : Schema.u64(b);
            cache.put(id, v);
        }
        return v;
    }

    /**
     * Every count that is not 1 right now, read in one transaction: the LMDB rows overlaid with
     * the committing and open changes. For walks that would otherwise look up counts one by one.
     */
    Map<Long, Long> snapshotNotOne() {
        HashMap<Long, Long> all = new HashMap<>();
        lmdb.read(r -> {
            r.forEach(db, (k, v) -> {
                all.put(Schema.u64(k), Schema.u64(v));
                return true;
            });
            return null;
        });
        all.putAll(logged);
        all.putAll(committing);
        all.putAll(dirty);
        all.values().removeIf(v -> v == 1);
        return all;
    }

    void set(long id, long value) {
        dirty.put(id, value);
    }

    boolean hasChanges() {
        return !dirty.isEmpty();
    }

    /** Moves the open changes to the committing set and returns them (1 or 0 mean: delete the row). */
    Map<Long, Long> drain() {
        Map<Long, Long> out = dirty;
        committing.putAll(dirty);
        dirty = new HashMap<>();
        return out;
    }

    /** All committing changes are durable in LMDB: they become clean cache entries. */
    void finish() {
        cache.putAll(committing);
        committing = new HashMap<>();
    }

    /** All committing changes are durable in the intent log: kept (never evicted) until LMDB has them. */
    void finishLogged() {
        logged.putAll(committing);
        committing = new HashMap<>();
    }

    /** The logged changes are in LMDB now: they become clean cache entries (before newer ones, {@link #finish}). */
    void loggedApplied() {
        cache.putAll(logged);
        logged = new HashMap<>();
    }

    static void apply(Lmdb.Writer w, Schema.Db db, Map<Long, Long> changes) {
        for (Map.Entry<Long, Long> e : changes.entrySet()) {
            long v = e.getValue();
            if (v == 1 || v == 0) {
                w.delete(db, Schema.u64(e.getKey()));
            } else {
                w.put(db, Schema.u64(e.getKey()), Schema.u64(v));
            }
        }
    }
}
