package io.clonefs.remote;

import io.clonefs.base.ClonefsException;
import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Base64;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The few S3 calls a remote needs, over the AWS SDK v2 with settings any S3 store accepts (Ceph
 * radosgw, MinIO, AWS): path-style addressing, static keys, checksums only when required (radosgw
 * 16 rejects the SDK's default trailing CRC32 checksums), an explicit Content-MD5 on every PUT,
 * 10 s per attempt and 3 retries.
 */
public final class S3Store implements AutoCloseable {
    private final RemoteConfig config;
    private final S3Client s3;

    public S3Store(RemoteConfig config, Credentials credentials) {
        this.config = config;
        this.s3 = S3Client.builder()
                .endpointOverride(URI.create(config.endpoint()))
                .region(Region.of(config.region()))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(credentials.accessKey(), credentials.secretKey())))
                // path-style URLs; whole-payload signing: radosgw 16 refuses aws-chunked empty bodies
                .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder()
                        .pathStyleAccessEnabled(true).chunkedEncodingEnabled(false).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(10)))
                .overrideConfiguration(o -> o
                        .apiCallAttemptTimeout(Duration.ofSeconds(10))
                        .apiCallTimeout(Duration.ofSeconds(60))
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(4).build()))
                .build();
    }

    public RemoteConfig config() {
        return config;
    }

    /** HeadBucket: the bucket exists and these keys may use it; else a clear error. */
    public void checkBucket() {
        try {
            s3.headBucket(b -> b.bucket(config.bucket()));
        } catch (NoSuchBucketException e) {
            throw new ClonefsException.NotFound("bucket '" + config.bucket() + "' does not exist at " + config.endpoint());
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw new ClonefsException.NotFound("bucket '" + config.bucket() + "' does not exist at " + config.endpoint());
            }
            String why = switch (e.statusCode()) {
                case 403 -> "access denied (check the access key and secret key)";
                case 404 -> "the bucket does not exist";
                case 301, 400 -> "the store refused the request (check --region and the endpoint): " + e.statusCode();
                default -> "HTTP " + e.statusCode() + " " + e.getMessage();
            };
            throw new ClonefsException.InvalidArgument("remote " + config.name() + ": bucket " + config.bucket() + " at "
                    + config.endpoint() + " does not answer: " + why);
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot reach " + config.endpoint() + ": "
                    + e.getMessage(), e);
        }
    }

    /** PUT with a Content-MD5 computed here, so the store checks the bytes it got. */
    public void put(String key, byte[] data, String contentType) {
        try {
            s3.putObject(PutObjectRequest.builder().bucket(config.bucket()).key(key).contentLength((long) data.length)
                    .contentMD5(md5(data)).contentType(contentType).build(), RequestBody.fromBytes(data));
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot upload " + key + ": " + e.getMessage(), e);
        }
    }

    /** True when the object exists. */
    public boolean exists(String key) {
        try {
            s3.headObject(HeadObjectRequest.builder().bucket(config.bucket()).key(key).build());
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot look up " + key + ": " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot look up " + key + ": " + e.getMessage(), e);
        }
    }

    /** The whole object; NotFound when it does not exist. */
    public byte[] get(String key) {
        try {
            return s3.getObjectAsBytes(GetObjectRequest.builder().bucket(config.bucket()).key(key).build()).asByteArray();
        } catch (NoSuchKeyException e) {
            throw new ClonefsException.NotFound("remote " + config.name() + " has no object " + key);
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw new ClonefsException.NotFound("remote " + config.name() + " has no object " + key);
            }
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot download " + key + ": " + e.getMessage(), e);
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot download " + key + ": " + e.getMessage(), e);
        }
    }

    /** Exactly {@code length} bytes at {@code offset} (a ranged GET); throws on a short or missing object. */
    public byte[] getRange(String key, long offset, int length) {
        if (length <= 0 || offset < 0) {
            throw new IllegalArgumentException("bad range " + offset + "+" + length);
        }
        ResponseBytes<GetObjectResponse> r;
        try {
            r = s3.getObjectAsBytes(GetObjectRequest.builder().bucket(config.bucket()).key(key)
                    .range("bytes=" + offset + "-" + (offset + length - 1)).build());
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot read " + key + " bytes " + offset
                    + "+" + length + ": " + e.getMessage(), e);
        }
        byte[] b = r.asByteArray();
        if (b.length != length) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": " + key + " bytes " + offset + "+" + length
                    + " gave " + b.length + " bytes (object too short?)", null);
        }
        return b;
    }

    /** An object as listed: full key, size, and the store's time of its last write. */
    public record ObjectInfo(String key, long size, Instant lastModified) {
    }

    /** Every object whose key starts with {@code keyPrefix} (ListObjectsV2, all pages), in key order. */
    public List<ObjectInfo> list(String keyPrefix) {
        List<ObjectInfo> out = new ArrayList<>();
        try {
            s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(config.bucket()).prefix(keyPrefix).build())
                    .contents().forEach(o -> out.add(new ObjectInfo(o.key(), o.size(), o.lastModified())));
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot list " + keyPrefix + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Deletes the object (S3 answers success for a key that does not exist). */
    public void delete(String key) {
        try {
            s3.deleteObject(DeleteObjectRequest.builder().bucket(config.bucket()).key(key).build());
        } catch (SdkException e) {
            throw new ClonefsException.IoFailure("remote " + config.name() + ": cannot delete " + key + ": " + e.getMessage(), e);
        }
    }

    static String md5(byte[] data) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        s3.close();
    }
}
