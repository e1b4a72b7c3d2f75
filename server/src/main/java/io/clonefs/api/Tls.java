package io.clonefs.api;

import io.clonefs.base.ClonefsException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS from PEM files with the JDK alone: the daemon's context from a certificate chain and its
 * private key, a client's from the certificates it trusts. The JDK reads PEM certificates but has no
 * PEM key loader, so keys are read here: unencrypted PKCS#8 ({@code -----BEGIN PRIVATE KEY-----})
 * holding an RSA, EC (P-256, P-384, P-521), RSASSA-PSS or Ed25519/Ed448 key. A PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}) key, or an encrypted one,
 * is refused with the {@code openssl} command that converts it.
 */
public final class Tls {
    private static final char[] NO_PASSWORD = new char[0];

    private Tls() {
    }

    /** The server context of {@code certFile} (the chain, leaf first) and {@code keyFile}; a clear error if they do not load. */
    public static SSLContext server(Path certFile, Path keyFile) {
        List<X509Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("clonefs", key, NO_PASSWORD, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, NO_PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new ClonefsException.InvalidArgument("cannot use " + certFile + " with " + keyFile + ": " + e.getMessage());
        }
    }

    /** A client context that trusts the certificates of {@code caFile} (a CA's, or the daemon's own certificate). */
    public static SSLContext client(Path caFile) {
        try {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            for (X509Certificate c : certificates(caFile)) {
                ts.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new ClonefsException.InvalidArgument("cannot trust " + caFile + ": " + e.getMessage());
        }
    }

    /** The X.509 certificates of a PEM file, in order; at least one. */
    public static List<X509Certificate> certificates(Path file) {
        byte[] pem = read(file, "certificate");
        try {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem));
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : certs) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new ClonefsException.InvalidArgument(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            }
            return out;
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new ClonefsException.InvalidArgument(file + " is not a PEM certificate: " + e.getMessage());
        }
    }

    /** The private key of a PEM file: unencrypted PKCS#8 (RSA, EC, RSASSA-PSS, EdDSA). */
    public static PrivateKey privateKey(Path file) {
        String text = new String(read(file, "private key"), StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
            throw new ClonefsException.InvalidArgument(file + " is a PKCS#1/SEC1 key; clonefs reads PKCS#8 keys"
                    + " (convert it: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out KEY.pem)");
        }
        if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new ClonefsException.InvalidArgument(file + " is encrypted; clonefs reads unencrypted PKCS#8 keys"
                    + " (decrypt it: openssl pkcs8 -in " + file + " -out KEY.pem, and keep KEY.pem mode 0600)");
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int b = text.indexOf(begin);
        int e = b < 0 ? -1 : text.indexOf(end, b);
        if (b < 0 || e < 0) {
            throw new ClonefsException.InvalidArgument(file + " holds no PEM private key (" + begin + ")");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new ClonefsException.InvalidArgument(file + ": the private key is not valid base64");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String alg : new String[] {"RSA", "EC", "RSASSA-PSS", "Ed25519", "Ed448"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException | RuntimeException ignored) {
                // the next algorithm
            }
        }
        throw new ClonefsException.InvalidArgument(file + ": a PKCS#8 key of an algorithm clonefs does not read"
                + " (RSA, EC, RSASSA-PSS, Ed25519 and Ed448 are read)");
    }

    private static byte[] read(Path file, String what) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ClonefsException.InvalidArgument("cannot read the " + what + " " + file + ": " + e);
        }
    }
}
