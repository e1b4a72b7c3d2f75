package io.clonefs.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * A throwaway single-node Ceph cluster (mon, mgr, one bluestore OSD on a sparse file) with an S3
 * endpoint (radosgw on 127.0.0.1), built and torn down by {@code scripts/ceph-dev.sh}; everything
 * lives under the directory given to {@link #start}. Needs root and the Debian packages that
 * {@code scripts/install-deps.sh} installs. About 15 s to start and 400-500 MB of memory.
 */
public final class Ceph implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(1);

    private final Path dir;
    private final String endpoint;
    private final String accessKey;
    private final String secretKey;
    private final Thread shutdownHook;
    private boolean closed;

    private Ceph(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.endpoint = require(env, "CEPH_S3_ENDPOINT");
        this.accessKey = require(env, "CEPH_S3_ACCESS_KEY");
        this.secretKey = require(env, "CEPH_S3_SECRET_KEY");
        // a JVM that exits without close() (e.g. a killed test run) must not leave daemons behind
        this.shutdownHook = new Thread(() -> stopQuietly(dir), "ceph-dev stop " + dir);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Builds and starts a cluster under {@code dir} (created if needed); fails with the script's output. */
    public static Ceph start(Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + d, e);
        }
        Proc.Result r;
        try {
            r = Proc.run(List.of("bash", script().toString(), "start", d.toString()), Map.of(), START_TIMEOUT);
        } catch (AssertionError e) {
            stopQuietly(d);
            throw new AssertionError("Ceph did not start in " + d + ": " + e.getMessage(), e);
        }
        if (!r.ok()) {
            stopQuietly(d);
            throw new AssertionError("Ceph did not start in " + d + " (scripts/ceph-dev.sh start; needs root and "
                    + "the ceph packages of scripts/install-deps.sh)\n" + r.describe());
        }
        try {
            return new Ceph(d, readEnv(d.resolve("s3.env")));
        } catch (RuntimeException | AssertionError e) {
            stopQuietly(d);
            throw e;
        }
    }

    public String endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /**
     * A new client for this endpoint (the caller closes it): path-style, us-east-1, checksums only
     * when required (radosgw 16 rejects the SDK's default flexible checksums), no aws-chunked
     * uploads (radosgw 16 rejects them for empty bodies), and timeouts short enough that an outage
     * surfaces as an exception within about 10 s.
     */
    public S3Client client() {
        return S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                // path-style; no aws-chunked uploads: radosgw 16 rejects the SDK's streaming signature of an
                // empty body ("chunk signature mismatch", HTTP 400), so the payload is signed whole instead
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(true)
                        .chunkedEncodingEnabled(false)
                        .build())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(5)))
                .overrideConfiguration(o -> o
                        .apiCallAttemptTimeout(Duration.ofSeconds(5))
                        .apiCallTimeout(Duration.ofSeconds(10)))
                .build();
    }

    public void createBucket(String bucket) {
        try (S3Client c = client()) {
            c.createBucket(b -> b.bucket(bucket));
        }
    }

    /** Stops radosgw only (an S3 outage); the cluster keeps running. */
    public void stopGateway() {
        script("gw-stop", STOP_TIMEOUT);
    }

    /** Starts radosgw again on the same port; returns when it answers. */
    public void startGateway() {
        script("gw-start", Duration.ofMinutes(2));
    }

    /** Kills the daemons and deletes the contents of the directory. Safe to call more than once. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            script("stop", STOP_TIMEOUT);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException ignored) {
                // shutting down already
            }
            deleteContents(dir);
        }
    }

    private void script(String command, Duration timeout) {
        Proc.Result r = Proc.run(List.of("bash", script().toString(), command, dir.toString()), Map.of(), timeout);
        if (!r.ok()) {
            throw new AssertionError("scripts/ceph-dev.sh " + command + " failed\n" + r.describe());
        }
    }

    private static void stopQuietly(Path d) {
        try {
            Proc.run(List.of("bash", script().toString(), "stop", d.toString()), Map.of(), STOP_TIMEOUT);
        } catch (RuntimeException | AssertionError ignored) {
            // best effort
        }
    }

    private static Map<String, String> readEnv(Path f) {
        Map<String, String> m = new HashMap<>();
        try {
            for (String line : Files.readAllLines(f)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
        return m;
    }

    private static String require(Map<String, String> env, String key) {
        String v = env.get(key);
        if (v == null || v.isEmpty()) {
            throw new AssertionError("s3.env lacks " + key + ": " + env.keySet());
        }
        return v;
    }

    private static void deleteContents(Path d) {
        if (!Files.isDirectory(d)) {
            return;
        }
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(d)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the contents of " + d, e);
        }
    }

    /** REPO/scripts/ceph-dev.sh, REPO found from the launcher property or by walking up to bin/clonefs. */
    static Path script() {
        String launcher = System.getProperty("clonefs.it.launcher");
        Path root = null;
        if (launcher != null) {
            root = Path.of(launcher).toAbsolutePath().normalize().getParent().getParent();
        } else {
            Path d = Path.of("").toAbsolutePath();
            while (d != null && !Files.exists(d.resolve("bin/clonefs"))) {
                d = d.getParent();
            }
            root = d;
        }
        if (root == null || !Files.isRegularFile(root.resolve("scripts/ceph-dev.sh"))) {
            throw new AssertionError("cannot find scripts/ceph-dev.sh (repository root " + root + ")");
        }
        return root.resolve("scripts/ceph-dev.sh");
    }
}
