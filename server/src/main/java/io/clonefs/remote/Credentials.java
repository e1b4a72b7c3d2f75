package io.clonefs.remote;

import io.clonefs.base.ClonefsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * S3 access keys. The file format (both {@code --credentials-file} and the stored
 * {@code POOL/remotes/NAME/credentials}) is lines of {@code KEY=VALUE}, {@code #} comments and
 * blank lines ignored:
 * <pre>
 * aws_access_key_id=AKIA...
 * aws_secret_access_key=...
 * </pre>
 * (upper-case {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY} are accepted too, as is an
 * AWS-style {@code [default]} section header, which is ignored).
 */
public record Credentials(String accessKey, String secretKey) {
    public Credentials {
        if (accessKey == null || accessKey.isBlank() || secretKey == null || secretKey.isBlank()) {
            throw new ClonefsException.InvalidArgument("S3 credentials need both an access key and a secret key");
        }
    }

    @Override
    public String toString() {
        return "Credentials[" + accessKey + ", secret hidden]";
    }

    /** Parses the text of a credentials file. */
    public static Credentials parse(String text, String where) {
        String ak = null;
        String sk = null;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new ClonefsException.InvalidArgument(where + ": line '" + abbreviate(line) + "' is not KEY=VALUE");
            }
            String k = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String v = line.substring(eq + 1).strip();
            switch (k) {
                case "aws_access_key_id", "access_key" -> ak = v;
                case "aws_secret_access_key", "secret_key" -> sk = v;
                default -> { } // e.g. region: ignored
            }
        }
        if (ak == null || ak.isEmpty() || sk == null || sk.isEmpty()) {
            throw new ClonefsException.InvalidArgument(where + " must set aws_access_key_id and aws_secret_access_key");
        }
        return new Credentials(ak, sk);
    }

    private static String abbreviate(String line) {
        return line.length() > 12 ? line.substring(0, 12) + "..." : line; // may hold a secret: not all of it
    }

    /** Reads a credentials file, refusing one that others can read (its mode must be 0600 or 0400). */
    public static Credentials readFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ClonefsException.NotFound("credentials file " + file + " does not exist");
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            Set<PosixFilePermission> allowed = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            if (!allowed.containsAll(perms)) {
                throw new ClonefsException.InvalidArgument("credentials file " + file + " has mode "
                        + PosixFilePermissions.toString(perms)
                        + ": others may read it; run 'chmod 600 " + file + "'");
            }
            return parse(Files.readString(file, StandardCharsets.UTF_8), "credentials file " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read credentials file " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} of this environment, or a clear error. */
    public static Credentials fromEnvironment(Map<String, String> env) {
        String ak = env.get("AWS_ACCESS_KEY_ID");
        String sk = env.get("AWS_SECRET_ACCESS_KEY");
        if (ak == null || ak.isBlank() || sk == null || sk.isBlank()) {
            throw new ClonefsException.InvalidArgument("no S3 credentials: give --credentials-file FILE (mode 0600) or set "
                    + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        }
        return new Credentials(ak.strip(), sk.strip());
    }

    /** The stored form. */
    public String format() {
        return "aws_access_key_id=" + accessKey + "\naws_secret_access_key=" + secretKey + "\n";
    }
}
