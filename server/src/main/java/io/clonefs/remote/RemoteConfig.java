package io.clonefs.remote;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.clonefs.base.ClonefsException;
import java.net.URI;
import java.util.regex.Pattern;

/**
 * One S3 remote of a pool, as stored in {@code POOL/remotes/NAME/config.json} (the credentials are
 * kept apart, in {@code POOL/remotes/NAME/credentials}, mode 0600).
 *
 * @param prefix key prefix inside the bucket, without leading or trailing slash; "" for none
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RemoteConfig(String name, String endpoint, String bucket, String prefix, String region) {
    /** No dots (the local volume of an imported snapshot is {@code REMOTE.VOLUME}) and no colon. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,31}");
    /** S3 bucket naming rules (lower case, 3–63 characters). */
    static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9!_.*'()/-]{0,200}");
    public static final String DEFAULT_REGION = "us-east-1";

    /** Checks every field and normalises the prefix (no leading or trailing slash). */
    public RemoteConfig {
        checkName(name);
        if (endpoint == null || endpoint.isBlank()) {
            throw new ClonefsException.InvalidArgument("remote " + name + ": --endpoint is required (e.g. http://127.0.0.1:7480)");
        }
        URI u;
        try {
            u = URI.create(endpoint.strip());
        } catch (IllegalArgumentException e) {
            throw new ClonefsException.InvalidArgument("remote " + name + ": endpoint '" + endpoint + "' is not a URL");
        }
        if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null) {
            throw new ClonefsException.InvalidArgument("remote " + name + ": endpoint '" + endpoint
                    + "' must be an http:// or https:// URL with a host");
        }
        endpoint = endpoint.strip();
        if (bucket == null || !BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
            throw new ClonefsException.InvalidArgument("remote " + name + ": bucket '" + bucket
                    + "' is not a valid S3 bucket name (3-63 characters: a-z 0-9 . -)");
        }
        prefix = prefix == null ? "" : prefix.strip();
        while (prefix.startsWith("/")) {
            prefix = prefix.substring(1);
        }
        while (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        if (!PREFIX.matcher(prefix).matches() || prefix.contains("//")) {
            throw new ClonefsException.InvalidArgument("remote " + name + ": prefix '" + prefix
                    + "' may hold only letters, digits, / and !_.*'()- (at most 200 characters)");
        }
        region = region == null || region.isBlank() ? DEFAULT_REGION : region.strip();
        if (!region.matches("[a-z0-9-]{1,32}")) {
            throw new ClonefsException.InvalidArgument("remote " + name + ": region '" + region + "' is not a region name");
        }
    }

    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ClonefsException.InvalidArgument("invalid remote name '" + name
                    + "': 1-32 characters, letters, digits, '_' and '-', starting with a letter or digit");
        }
        return name;
    }

    /** The full object key of {@code rest} (e.g. {@code packs/ab12...}) under this remote's prefix. */
    public String key(String rest) {
        return prefix.isEmpty() ? rest : prefix + "/" + rest;
    }

    public String packKey(String hexSha) {
        return key("packs/" + hexSha);
    }

    public String listingKey(String hexSha) {
        return key("listings/" + hexSha);
    }

    public String manifestKey(String volume, String snapshot) {
        return key("manifests/" + volume + "@" + snapshot + ".json");
    }

    /** {@code s3://bucket/prefix} for messages. */
    public String location() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix) + " at " + endpoint;
    }
}
