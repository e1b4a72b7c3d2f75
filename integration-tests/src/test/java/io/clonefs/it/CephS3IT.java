package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.clonefs.it.support.Ceph;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 endpoint of a real single-node Ceph cluster (scripts/ceph-dev.sh via {@link Ceph}):
 * PUT with Content-MD5, whole and ranged GET, a listing of more than one page, HEAD of a missing
 * key, and a gateway outage that surfaces as an exception within a bounded time.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CephS3IT {
    private static final String BUCKET = "clonefs-it";

    private static Path dir;
    private static Ceph ceph;
    private static S3Client s3;

    @BeforeAll
    static void startCeph() throws Exception {
        dir = Files.createTempDirectory("clonefs-ceph-");
        long t0 = System.nanoTime();
        ceph = Ceph.start(dir);
        System.out.printf("Ceph S3 endpoint %s up in %.1f s%n", ceph.endpoint(), (System.nanoTime() - t0) / 1e9);
        ceph.createBucket(BUCKET);
        s3 = ceph.client();
    }

    @AfterAll
    static void stopCeph() throws Exception {
        try {
            if (s3 != null) {
                s3.close();
            }
        } finally {
            try {
                if (ceph != null) {
                    ceph.close();
                }
            } finally {
                if (dir != null) {
                    Files.deleteIfExists(dir);
                }
            }
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String md5(byte[] b) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] get(String key) {
        return s3.getObjectAsBytes(g -> g.bucket(BUCKET).key(key)).asByteArray();
    }

    @Test
    @Order(1)
    void putWithContentMd5AndGetWholeAndRanges() throws Exception {
        byte[] data = random(3 * 1024 * 1024 + 17, 1);
        String md5 = md5(data);
        s3.putObject(p -> p.bucket(BUCKET).key("blobs/a").contentMD5(md5), RequestBody.fromBytes(data));
        assertArrayEquals(data, get("blobs/a"));

        byte[] range = s3.getObjectAsBytes(g -> g.bucket(BUCKET).key("blobs/a").range("bytes=1000-1999")).asByteArray();
        assertArrayEquals(Arrays.copyOfRange(data, 1000, 2000), range);
        byte[] tail = s3.getObjectAsBytes(g -> g.bucket(BUCKET).key("blobs/a").range("bytes=-100")).asByteArray();
        assertArrayEquals(Arrays.copyOfRange(data, data.length - 100, data.length), tail);

        byte[] empty = new byte[0];
        s3.putObject(p -> p.bucket(BUCKET).key("blobs/empty").contentMD5(md5(empty)), RequestBody.fromBytes(empty));
        assertEquals(0, get("blobs/empty").length);

        assertEquals(data.length, s3.headObject(h -> h.bucket(BUCKET).key("blobs/a")).contentLength());
    }

    @Test
    @Order(2)
    void wrongContentMd5IsRejected() throws Exception {
        byte[] data = random(1000, 2);
        String wrong = md5(random(1000, 3)); // a valid MD5, of other bytes
        S3Exception e = assertThrows(S3Exception.class,
                () -> s3.putObject(p -> p.bucket(BUCKET).key("blobs/bad").contentMD5(wrong), RequestBody.fromBytes(data)));
        assertEquals(400, e.statusCode(), e.toString());
        assertEquals(404, assertThrows(S3Exception.class, () -> get("blobs/bad")).statusCode());
    }

    @Test
    @Order(3)
    void headOfMissingKeyIs404() {
        S3Exception e = assertThrows(S3Exception.class, () -> s3.headObject(h -> h.bucket(BUCKET).key("no/such/key")));
        assertEquals(404, e.statusCode());
    }

    @Test
    @Order(4)
    void listingOfMoreThan1000KeysIsPaginated() throws Exception {
        int n = 1234;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String key = String.format("many/%05d", i);
                byte[] body = key.getBytes();
                fs.add(pool.submit(() -> s3.putObject(p -> p.bucket(BUCKET).key(key), RequestBody.fromBytes(body))));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        s3.putObject(p -> p.bucket(BUCKET).key("manyother"), RequestBody.fromBytes(new byte[1]));

        ListObjectsV2Response first = s3.listObjectsV2(l -> l.bucket(BUCKET).prefix("many/"));
        assertTrue(first.isTruncated(), "the first page of " + n + " keys must be truncated");
        assertEquals(1000, first.keyCount());

        List<String> keys = new ArrayList<>();
        int pages = 0;
        for (ListObjectsV2Response page : s3.listObjectsV2Paginator(l -> l.bucket(BUCKET).prefix("many/"))) {
            pages++;
            page.contents().stream().map(S3Object::key).forEach(keys::add);
        }
        assertEquals(2, pages);
        assertEquals(n, keys.size());
        for (int i = 0; i < n; i++) {
            assertEquals(String.format("many/%05d", i), keys.get(i));
        }
    }

    @Test
    @Order(5)
    void gatewayOutageFailsFastAndRecovers() {
        byte[] data = random(4096, 5);
        s3.putObject(p -> p.bucket(BUCKET).key("outage/x"), RequestBody.fromBytes(data));
        ceph.stopGateway();
        try {
            long t0 = System.nanoTime();
            assertThrows(SdkException.class, () -> get("outage/x"));
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("GET during the outage failed after %.1f s%n", s);
            assertTrue(s < 15, "an outage must surface within ~10 s, took " + s + " s");
        } finally {
            ceph.startGateway();
        }
        assertArrayEquals(data, get("outage/x"));
    }
}
