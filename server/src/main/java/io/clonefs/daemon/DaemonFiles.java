package io.clonefs.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.api.ControlException;
import io.clonefs.base.DurableFiles;
import io.clonefs.base.ErrorKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/** Locations and atomic, owner-only writes of the files a daemon keeps (see the package doc). */
public final class DaemonFiles {
    public static final String INFO = "daemon.json";
    public static final String TOKEN = "daemon.token";
    public static final String LOG = "daemon.log";

    static final ObjectMapper JSON = new ObjectMapper();

    private DaemonFiles() {
    }

    public static Path info(Path pool) {
        return pool.resolve(INFO);
    }

    public static Path token(Path pool) {
        return pool.resolve(TOKEN);
    }

    public static Path log(Path pool) {
        return pool.resolve(LOG);
    }

    /** The published daemon of a pool, if its file exists and parses (the daemon may be dead). */
    public static Optional<DaemonInfo> readInfo(Path pool) {
        return readJson(info(pool));
    }

    public static String readToken(Path pool) {
        try {
            return Files.readString(token(pool), StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            throw new ControlException(ErrorKind.NO_TOKEN, "the daemon's token " + token(pool) + " is missing");
        } catch (IOException e) {
            throw new ControlException(ErrorKind.NO_TOKEN, "cannot read the daemon's token " + token(pool) + ": " + e.getMessage(), e);
        }
    }

    /** A fresh random token (256 bits, hex). */
    public static String newToken() {
        byte[] b = new byte[32];
        Random.SOURCE.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Made on first use: a client that only reads the files starts without the security providers. */
    private static final class Random {
        static final SecureRandom SOURCE = new SecureRandom();
    }

    /**
     * Writes a file readable by its owner only, atomically and durably
     * ({@link DurableFiles#writePrivate}); a full disk is {@link io.clonefs.base.ClonefsException.NoSpace}
     * (507 {@code no_space} from the API), nothing changed.
     */
    public static void writePrivate(Path file, byte[] content) {
        try {
            DurableFiles.writePrivate(file, content);
        } catch (IOException e) {
            if (io.clonefs.base.ClonefsException.ioOrNoSpace("cannot write " + file, e)
                    instanceof io.clonefs.base.ClonefsException.NoSpace full) {
                throw full;
            }
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static void writeJson(Path file, Object value) {
        try {
            writePrivate(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Optional<DaemonInfo> readJson(Path file) {
        try {
            return Optional.of(JSON.readValue(Files.readAllBytes(file), DaemonInfo.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // half-written or garbage: treat as absent
        }
    }

    public static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort on shutdown
        }
    }

    /** Where the mount registry lives (see the package doc). */
    public static Path runDir() {
        String env = System.getenv("CLONEFS_RUN_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath();
        }
        long uid = uid();
        if (uid == 0) {
            return Path.of("/run/clonefs");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "clonefs-" + uid);
    }

    /** The registry entry of a mount point. */
    public static Path registryEntry(Path mountpoint) {
        return runDir().resolve("mounts").resolve(sha256(mountpoint.toString()) + ".json");
    }

    public static void register(DaemonInfo info) {
        Path entry = registryEntry(Path.of(info.mountpoint()));
        try {
            Path dir = entry.getParent();
            if (!Files.isDirectory(dir)) {
                try {
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException ignored) {
                    // raced with another daemon
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + entry.getParent() + ": " + e.getMessage(), e);
        }
        writeJson(entry, info);
    }

    public static Optional<DaemonInfo> lookup(Path mountpoint) {
        return readJson(registryEntry(mountpoint));
    }

    public static long uid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
