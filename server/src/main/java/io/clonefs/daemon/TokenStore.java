package io.clonefs.daemon;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import io.clonefs.api.Api;
import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pool's scoped tokens ({@code clonefs token}), in {@code POOL/tokens.json} (mode 0600, each
 * change written atomically and fsync'd by {@link DaemonFiles#writePrivate}). A token is 256 random
 * bits (64 hex digits) shown once when created; the file keeps only its SHA-256. A fast hash is
 * enough: a slow one (bcrypt, scrypt, Argon2) protects low-entropy passwords from guessing, and
 * nobody guesses 256 random bits, so the hash only has to be one-way. Revoking removes the entry;
 * an expired token stays listed (and refused) until revoked. The pool's own token
 * ({@code POOL/daemon.token}) is not in this file and is always {@link Scope#ADMIN}.
 *
 * <p>{@code lastUsedAt} is kept in memory on every use and written at most once a minute per token
 * (so that a busy client does not turn each request into an fsync).
 *
 * <p>Thread-safe: every method holds the instance's monitor.
 */
public final class TokenStore {
    public static final String FILE = "tokens.json";
    private static final Pattern TTL = Pattern.compile("([1-9][0-9]{0,8})([smhd])");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Duration LAST_USED_EVERY = Duration.ofMinutes(1);

    /** One stored token: its hash, never its secret. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Entry(String id, String name, String scope, String createdAt, String expiresAt, String lastUsedAt, String sha256) {
        Entry used(String at) {
            return new Entry(id, name, scope, createdAt, expiresAt, at, sha256);
        }

        Api.TokenView view() {
            return new Api.TokenView(id, name, scope, createdAt, expiresAt, lastUsedAt);
        }
    }

    /** What a presented token is: unknown, expired, or valid with its scope. */
    public record Check(Scope scope, Api.TokenView token, boolean expired) {
    }

    private final Path file;
    private final Map<String, Entry> byHash = new LinkedHashMap<>();
    private final Map<String, Instant> lastUsed = new LinkedHashMap<>();
    private final SecureRandom random = new SecureRandom();

    private TokenStore(Path file) {
        this.file = file;
    }

    /** Reads {@code POOL/tokens.json} (none yet: no tokens). */
    public static TokenStore open(Path pool) {
        TokenStore s = new TokenStore(pool.resolve(FILE));
        try {
            List<Entry> entries = DaemonFiles.JSON.readValue(Files.readAllBytes(s.file), new TypeReference<List<Entry>>() { });
            for (Entry e : entries) {
                s.byHash.put(e.sha256(), e);
            }
        } catch (NoSuchFileException e) {
            // no tokens yet
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read " + s.file + ": " + e.getMessage(), e);
        }
        return s;
    }

    /** Creates a token; its secret is in the answer and nowhere else. */
    public synchronized Api.TokenCreated create(String scope, String ttl, String name) {
        Scope sc = Scope.parse(scope);
        Duration life = ttl == null || ttl.isBlank() ? null : ttl(ttl);
        byte[] idBytes = new byte[6];
        random.nextBytes(idBytes);
        String id = HexFormat.of().formatHex(idBytes);
        String n = name == null || name.isBlank() ? "token-" + id : name.trim();
        if (!NAME.matcher(n).matches()) {
            throw new ClonefsException.InvalidArgument("a token's name is 1 to 64 letters, digits, '.', '_' or '-', not '" + n + "'");
        }
        for (Entry e : byHash.values()) {
            if (e.name().equals(n)) {
                throw new ClonefsException.AlreadyExists("a token named " + n + " exists (id " + e.id() + ")");
            }
        }
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        Instant now = Instant.now();
        Entry e = new Entry(id, n, sc.wire(), now.toString(), life == null ? null : now.plus(life).toString(), null, sha256(token));
        byHash.put(e.sha256(), e);
        try {
            save();
        } catch (RuntimeException ex) {
            byHash.remove(e.sha256());
            throw ex;
        }
        return new Api.TokenCreated(e.id(), e.name(), e.scope(), e.createdAt(), e.expiresAt(), token);
    }

    /** Every token, oldest first, without secrets. */
    public synchronized List<Api.TokenView> list() {
        List<Api.TokenView> out = new ArrayList<>();
        for (Entry e : byHash.values()) {
            Instant used = lastUsed.get(e.sha256());
            out.add(used == null ? e.view() : e.used(used.toString()).view());
        }
        return out;
    }

    /** Removes a token by id or name; {@code not_found} when there is none. */
    public synchronized Api.TokenView revoke(String idOrName) {
        for (Entry e : byHash.values()) {
            if (e.id().equals(idOrName) || e.name().equals(idOrName)) {
                byHash.remove(e.sha256());
                try {
                    save();
                } catch (RuntimeException ex) {
                    byHash.put(e.sha256(), e);
                    throw ex;
                }
                lastUsed.remove(e.sha256());
                return e.view();
            }
        }
        throw new ClonefsException.NotFound("no token " + idOrName + " (clonefs token list)");
    }

    /** The token a bearer secret is, or null when it is none of them. */
    public synchronized Check check(String secret) {
        if (byHash.isEmpty()) {
            return null;
        }
        String h = sha256(secret);
        Entry e = byHash.get(h);
        if (e == null) {
            return null;
        }
        Instant now = Instant.now();
        if (e.expiresAt() != null && !now.isBefore(Instant.parse(e.expiresAt()))) {
            return new Check(Scope.parse(e.scope()), e.view(), true);
        }
        lastUsed.put(h, now);
        if (e.lastUsedAt() == null || Duration.between(Instant.parse(e.lastUsedAt()), now).compareTo(LAST_USED_EVERY) >= 0) {
            byHash.put(h, e.used(now.toString()));
            try {
                save();
            } catch (RuntimeException ex) {
                byHash.put(h, e); // only the last use is lost; the request goes on
            }
        }
        return new Check(Scope.parse(e.scope()), byHash.get(h).view(), false);
    }

    private void save() {
        try {
            DaemonFiles.writePrivate(file, DaemonFiles.JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(new ArrayList<>(byHash.values())));
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code 30s}, {@code 15m}, {@code 12h}, {@code 7d}. */
    static Duration ttl(String text) {
        Matcher m = TTL.matcher(text.trim());
        if (!m.matches()) {
            throw new ClonefsException.InvalidArgument("ttl must be a whole number of s, m, h or d (e.g. 7d), not '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
