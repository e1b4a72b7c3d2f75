package io.clonefs.remote;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deleting from a remote: {@link #deleteSnapshot} removes a manifest, {@link #gc} removes the packs
 * and listings no manifest references, and {@link PushGuard} is what a push does so that a gc
 * never removes a pack the push is about to reference. The protocol (docs/design.md, "Remote
 * deletion and GC"), with its two objects under the remote's prefix {@code P}:
 * <ul>
 * <li>{@code P/gc/leases/TOKEN.json}, written by a gc that deletes ({@code --apply}) before it
 *     reads any manifest, deleted when it ends; live until its {@code expires} ({@link #LEASE_TTL});
 *     a gc that sees another live lease after writing its own stops;</li>
 * <li>{@code P/gc/pushes/TOKEN.json}, written by a push before it decides which existing packs it
 *     reuses, rewritten every {@link #INTENT_REFRESH} while it runs, deleted when it ends; live
 *     while its last write is younger than {@link #INTENT_TTL}.</li>
 * </ul>
 * Each side writes its own object, then reads the other's: the gc lists the intents after writing
 * its lease, the push lists the leases after writing its intent. With a store that is strongly
 * consistent (read-after-write and list-after-write: AWS S3, Ceph radosgw on one site), at least
 * one of the two sees the other: the gc then stops without deleting anything, or the push waits
 * until the lease is gone before it lists the packs it may reuse. A pack younger than the grace
 * period is never deleted either, whatever the objects say (a push of a clonefs without this
 * protocol uploads its packs before its manifest).
 */
public final class RemoteGc {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteGc.class);
    public static final Duration DEFAULT_GRACE = Duration.ofHours(24);
    static final Duration LEASE_TTL = Duration.ofHours(1);
    static final Duration INTENT_TTL = Duration.ofHours(1);
    static final Duration INTENT_REFRESH = Duration.ofMinutes(5);
    /** A gc stops deleting once it has held its lease this long (the rest waits for the next run). */
    static final Duration SWEEP_BUDGET = LEASE_TTL.dividedBy(2);

    private RemoteGc() {
    }

    /** {@code P/gc/leases/TOKEN.json}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Lease(String owner, String token, String acquired, String expires) {
        boolean live(Instant now) {
            try {
                return now.isBefore(Instant.parse(expires));
            } catch (RuntimeException e) {
                return true; // unreadable time: assume live until the object is old (see leaseLive)
            }
        }
    }

    /** {@code P/gc/pushes/TOKEN.json}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Intent(String owner, String snapshot, String started) {
    }

    /** What a gc found and (with {@code applied}) removed. */
    public record Result(String remote, boolean applied, int manifests, long referencedPacks, long referencedListings,
                         long packs, long packBytes, long listings, long listingBytes, long youngKept, long staleIntents,
                         List<String> keys, double seconds) {
    }

    /** A removed snapshot. */
    public record Deleted(String remote, String snapshot, String manifest) {
    }

    static String leasePrefix(RemoteConfig c) {
        return c.key("gc/leases/");
    }

    static String intentPrefix(RemoteConfig c) {
        return c.key("gc/pushes/");
    }

    static String owner() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "?";
        }
        return host + " pid " + ProcessHandle.current().pid();
    }

    /** Removes {@code VOLUME@SNAP}'s manifest; its packs and listings stay until a gc. */
    public static Deleted deleteSnapshot(S3Store store, String snapshot) {
        SnapshotName sn = SnapshotName.parse(snapshot);
        RemoteConfig c = store.config();
        String mk = c.manifestKey(sn.volume(), sn.snapshot());
        if (!store.exists(mk)) {
            throw new ClonefsException.NotFound("remote " + c.name() + " has no snapshot " + snapshot + " (no " + mk + ")");
        }
        store.delete(mk);
        LOG.info("deleted {} from remote {} (its packs stay until a gc)", snapshot, c.name());
        return new Deleted(c.name(), snapshot, mk);
    }

    /**
     * Finds the packs and listings that no manifest references and that are older than
     * {@code grace}; with {@code apply}, deletes them under the lease. Any manifest that cannot be
     * read or parsed stops it before anything is deleted.
     */
    public static Result gc(S3Store store, Duration grace, boolean apply) {
        long t0 = System.nanoTime();
        RemoteConfig c = store.config();
        if (!apply) {
            return sweep(store, grace, false, t0);
        }
        String lease = acquireLease(store, UUID.randomUUID().toString());
        try {
            List<String> pushes = liveIntents(store, Instant.now());
            if (!pushes.isEmpty()) {
                throw new ClonefsException.Conflict("remote " + c.name() + ": " + pushes.size() + " push(es) running ("
                        + String.join("; ", pushes) + "): gc deleted nothing, run it again once they end");
            }
            return sweep(store, grace, true, t0);
        } finally {
            releaseLease(store, lease);
        }
    }

    private static Result sweep(S3Store store, Duration grace, boolean apply, long t0) {
        RemoteConfig c = store.config();
        Set<String> packs = new HashSet<>();
        Set<String> listings = new HashSet<>();
        int manifests = 0;
        String mp = c.key("manifests/");
        for (S3Store.ObjectInfo o : store.list(mp)) {
            Manifest m;
            String name = o.key().substring(mp.length());
            byte[] body;
            try {
                body = store.get(o.key());
            } catch (ClonefsException.NotFound e) {
                continue; // deleted since the listing ('remote delete'): it references nothing any more
            }
            try {
                if (!name.endsWith(".json")) {
                    throw new ClonefsException.InvalidArgument(o.key() + " is not named VOLUME@SNAP.json");
                }
                m = Manifest.parse(body, o.key());
                if (!name.equals(m.volume() + "@" + m.snapshot() + ".json")) {
                    throw new ClonefsException.InvalidArgument(o.key() + " names " + m.volume() + "@" + m.snapshot());
                }
                if (m.listings().stream().anyMatch(l -> l == null || l.key() == null) || m.packs().contains(null)) {
                    throw new ClonefsException.InvalidArgument(o.key() + " has a null pack or listing");
                }
            } catch (ClonefsException.InvalidArgument e) {
                throw new ClonefsException.IoFailure("remote " + c.name() + ": gc stopped, nothing deleted: manifest "
                        + e.getMessage() + " (repair it or remove it with 'clonefs remote delete')", e);
            }
            manifests++;
            packs.addAll(m.packs());
            m.listings().forEach(l -> listings.add(l.key()));
        }
        Instant cutoff = Instant.now().minus(grace);
        List<S3Store.ObjectInfo> doomed = new ArrayList<>();
        long young = 0;
        long packCount = 0;
        long packBytes = 0;
        long listingCount = 0;
        long listingBytes = 0;
        for (String kind : List.of("listings/", "packs/")) {
            Set<String> referenced = kind.equals("packs/") ? packs : listings;
            for (S3Store.ObjectInfo o : store.list(c.key(kind))) {
                if (referenced.contains(o.key())) {
                    continue;
                }
                if (o.lastModified() != null && o.lastModified().isAfter(cutoff)) {
                    young++;
                    continue;
                }
                doomed.add(o);
                if (kind.equals("packs/")) {
                    packCount++;
                    packBytes += o.size();
                } else {
                    listingCount++;
                    listingBytes += o.size();
                }
            }
        }
        long stale = 0;
        List<String> keys = new ArrayList<>();
        if (apply) {
            long started = System.nanoTime();
            for (S3Store.ObjectInfo o : doomed) {
                if (System.nanoTime() - started > SWEEP_BUDGET.toNanos()) {
                    LOG.warn("gc of remote {}: lease budget spent, {} objects left for the next run", c.name(), doomed.size() - keys.size());
                    break;
                }
                store.delete(o.key());
                keys.add(o.key());
            }
            // intents of pushes that died (no write for INTENT_TTL)
            Instant staleBefore = Instant.now().minus(INTENT_TTL);
            for (S3Store.ObjectInfo o : store.list(intentPrefix(c))) {
                if (o.lastModified() != null && o.lastModified().isBefore(staleBefore)) {
                    store.delete(o.key());
                    stale++;
                }
            }
            LOG.info("gc of remote {}: {} manifests, deleted {} packs ({} bytes) and {} listings ({} bytes); {} unreferenced kept (younger than {})",
                    c.name(), manifests, packCount, packBytes, listingCount, listingBytes, young, grace);
        } else {
            doomed.forEach(o -> keys.add(o.key()));
        }
        if (apply && keys.size() < doomed.size()) {
            // report what was really deleted
            packCount = 0;
            packBytes = 0;
            listingCount = 0;
            listingBytes = 0;
            Set<String> done = new HashSet<>(keys);
            for (S3Store.ObjectInfo o : doomed) {
                if (!done.contains(o.key())) {
                    continue;
                }
                if (o.key().startsWith(c.key("packs/"))) {
                    packCount++;
                    packBytes += o.size();
                } else {
                    listingCount++;
                    listingBytes += o.size();
                }
            }
        }
        return new Result(c.name(), apply, manifests, packs.size(), listings.size(), packCount, packBytes, listingCount,
                listingBytes, young, stale, keys, Math.round((System.nanoTime() - t0) / 1e6) / 1000.0);
    }

    /**
     * Writes this gc's lease, then lists the leases: any other live one (another gc) makes it
     * take its own back and stop. Two gcs starting together may both stop; both cannot go on,
     * since each lists after its own write.
     */
    private static String acquireLease(S3Store store, String token) {
        RemoteConfig c = store.config();
        Instant now = Instant.now();
        String key = leasePrefix(c) + token + ".json";
        Lease mine = new Lease(owner(), token, now.toString(), now.plus(LEASE_TTL).toString());
        try {
            store.put(key, Remotes.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(mine), "application/json");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<Lease> others = liveLeases(store, Instant.now());
        others.removeIf(l -> token.equals(l.token()));
        if (!others.isEmpty()) {
            releaseLease(store, key);
            Lease o = others.get(0);
            throw new ClonefsException.Conflict("remote " + c.name() + ": another gc holds a lease (" + o.owner()
                    + ", until " + o.expires() + "); nothing deleted");
        }
        return key;
    }

    private static void releaseLease(S3Store store, String key) {
        try {
            store.delete(key);
        } catch (RuntimeException e) {
            LOG.warn("gc of remote {}: cannot release its lease {} ({}); it expires by itself", store.config().name(), key, e.getMessage());
        }
    }

    /**
     * The live leases: not expired by their {@code expires}; one that cannot be read counts as
     * live until its last write is {@link #LEASE_TTL} old.
     */
    static List<Lease> liveLeases(S3Store store, Instant now) {
        List<Lease> out = new ArrayList<>();
        for (S3Store.ObjectInfo o : store.list(leasePrefix(store.config()))) {
            Lease l;
            try {
                l = Remotes.JSON.readValue(store.get(o.key()), Lease.class);
            } catch (ClonefsException.NotFound e) {
                continue; // released meanwhile
            } catch (IOException e) {
                Instant until = o.lastModified() == null ? now.plus(LEASE_TTL) : o.lastModified().plus(LEASE_TTL);
                l = new Lease("? (unreadable " + o.key() + ")", "?", null, until.toString());
            }
            if (l.live(now)) {
                out.add(l);
            }
        }
        return out;
    }

    private static List<String> liveIntents(S3Store store, Instant now) {
        List<String> out = new ArrayList<>();
        Instant staleBefore = now.minus(INTENT_TTL);
        for (S3Store.ObjectInfo o : store.list(intentPrefix(store.config()))) {
            if (o.lastModified() == null || o.lastModified().isAfter(staleBefore)) {
                String who = o.key();
                try {
                    Intent i = Remotes.JSON.readValue(store.get(o.key()), Intent.class);
                    who = i.snapshot() + " from " + i.owner() + " since " + i.started();
                } catch (IOException | ClonefsException e) {
                    // gone or unreadable: still counted (it was live when listed)
                }
                out.add(who);
            }
        }
        return out;
    }

    /**
     * A push's side of the protocol: {@link #announce} writes the intent and waits while a gc
     * holds a live lease; {@link #refresh} rewrites it when {@link #INTENT_REFRESH} has passed;
     * {@link #close} deletes it.
     */
    public static final class PushGuard implements AutoCloseable {
        private final S3Store store;
        private final String key;
        private final byte[] body;
        private long lastWrite;

        private PushGuard(S3Store store, String key, byte[] body) {
            this.store = store;
            this.key = key;
            this.body = body;
        }

        /** Announces a push of {@code snapshot}; returns once no gc holds a live lease. */
        public static PushGuard announce(S3Store store, String snapshot, Runnable waiting) {
            RemoteConfig c = store.config();
            String key = intentPrefix(c) + UUID.randomUUID() + ".json";
            byte[] body;
            try {
                body = Remotes.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(new Intent(owner(), snapshot, Instant.now().toString()));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            PushGuard g = new PushGuard(store, key, body);
            g.write();
            try {
                boolean logged = false;
                while (true) {
                    List<Lease> ls = liveLeases(store, Instant.now());
                    if (ls.isEmpty()) {
                        return g;
                    }
                    Lease l = ls.get(0);
                    if (!logged) {
                        LOG.info("push of {} to {} waits for a gc to end ({}, lease until {})", snapshot, c.name(), l.owner(), l.expires());
                        waiting.run();
                        logged = true;
                    }
                    Thread.sleep(1000);
                    g.refresh();
                }
            } catch (InterruptedException e) {
                g.close();
                Thread.currentThread().interrupt();
                throw new ClonefsException.IoFailure("push interrupted while waiting for a gc", e);
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
        }

        private void write() {
            store.put(key, body, "application/json");
            lastWrite = System.nanoTime();
        }

        /** Rewrites the intent if its last write is {@link #INTENT_REFRESH} old. */
        public void refresh() {
            if (System.nanoTime() - lastWrite > INTENT_REFRESH.toNanos()) {
                write();
            }
        }

        @Override
        public void close() {
            try {
                store.delete(key);
            } catch (RuntimeException e) {
                LOG.warn("cannot delete push intent {} ({}); a gc ignores it after {}", key, e.getMessage(), INTENT_TTL);
            }
        }
    }
}
