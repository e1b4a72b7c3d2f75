package io.clonefs.remote;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.daemon.DaemonFiles;
import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * The remotes of a pool, kept in the pool directory:
 * <pre>
 * POOL/remotes/NAME/config.json            {@link RemoteConfig}
 * POOL/remotes/NAME/credentials            {@link Credentials} (mode 0600)
 * POOL/remotes/NAME/push-VOL@SNAP.journal  {@link PushJournal} of a push in progress
 * POOL/remotes/NAME/pushed/ID              {@link PushedIndex} of pushed snapshot dataset ID
 * </pre>
 * Plain files, so the CLI and the daemon see the same remotes, and a remote added while the
 * daemon runs is used at once (the fetcher looks remotes up on every fetch, see {@link S3Fetcher}).
 */
public final class Remotes {
    static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path dir;

    public Remotes(Path pool) {
        this.dir = pool.resolve("remotes");
    }

    public Path dir(String name) {
        return dir.resolve(RemoteConfig.checkName(name));
    }

    /** A remote and its credentials. */
    public record Remote(RemoteConfig config, Credentials credentials) {
    }

    /**
     * Stores a new remote after {@code probe} (e.g. a HeadBucket) accepted it; nothing is stored
     * when the name is taken or the probe throws.
     */
    public synchronized RemoteConfig add(RemoteConfig config, Credentials credentials, BiConsumer<RemoteConfig, Credentials> probe) {
        Path d = dir(config.name());
        if (Files.exists(d.resolve("config.json"))) {
            throw new ClonefsException.AlreadyExists("remote '" + config.name() + "' already exists (remove it first)");
        }
        probe.accept(config, credentials);
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectories(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            DaemonFiles.writePrivate(d.resolve("credentials"), credentials.format().getBytes(StandardCharsets.UTF_8));
            // config last: a remote exists once its config does
            DaemonFiles.writePrivate(d.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store remote " + config.name() + " in " + d + ": " + e.getMessage(), e);
        }
        return config;
    }

    public List<RemoteConfig> list() {
        List<RemoteConfig> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path d : ds) {
                String n = d.getFileName().toString();
                if (RemoteConfig.NAME.matcher(n).matches() && Files.isRegularFile(d.resolve("config.json"))) {
                    find(n).ifPresent(r -> out.add(r.config()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparing(RemoteConfig::name));
        return out;
    }

    public Optional<Remote> find(String name) {
        Path d = dir(name);
        Path cfg = d.resolve("config.json");
        if (!Files.isRegularFile(cfg)) {
            return Optional.empty();
        }
        try {
            RemoteConfig c = JSON.readValue(Files.readAllBytes(cfg), RemoteConfig.class);
            Credentials cr = Credentials.parse(Files.readString(d.resolve("credentials")), "credentials of remote " + name);
            return Optional.of(new Remote(c, cr));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read remote " + name + " from " + d + ": " + e.getMessage(), e);
        }
    }

    /** The remote, or NotFound naming the configured ones. */
    public Remote get(String name) {
        return find(name).orElseThrow(() -> new ClonefsException.NotFound("no remote named '" + name + "'"
                + (list().isEmpty() ? " (none is configured: add one with 'clonefs remote add')"
                        : " (configured: " + String.join(", ", list().stream().map(RemoteConfig::name).toList()) + ")")));
    }

    /** Forgets a remote and its push records; nothing on the object store is deleted. */
    public synchronized void remove(String name) {
        Path d = dir(name);
        if (!Files.isRegularFile(d.resolve("config.json"))) {
            get(name); // NotFound with the list
        }
        try {
            Files.delete(d.resolve("config.json")); // gone from now on, even if the rest fails
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + d + ": " + e.getMessage(), e);
        }
    }

    public Path journal(String remote, String snapshot) {
        return dir(remote).resolve("push-" + snapshot + ".journal");
    }

    public Path pushedDir(String remote) {
        return dir(remote).resolve("pushed");
    }
}
