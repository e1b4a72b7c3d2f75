package io.clonefs.it.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * SHA-256 of every entry of a tree: regular files by content, symlinks by target, directories by
 * name. {@link #of} gives one digest per relative path, so that a mismatch names the file.
 */
public final class TreeDigest {
    private TreeDigest() {
    }

    /** Relative path to "f:SHA256", "l:TARGET" or "d". */
    public static Map<String, String> of(Path root) {
        Map<String, String> out = new TreeMap<>();
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
            all = s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot walk " + root, e);
        }
        for (Path p : all) {
            String rel = root.relativize(p).toString();
            try {
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "l:" + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(rel, "d");
                } else {
                    out.put(rel, "f:" + sha256(p));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p, e);
            }
        }
        return out;
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha();
        byte[] buf = new byte[1 << 17];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** One digest of a whole {@link #of} map. */
    public static String total(Map<String, String> digests) {
        MessageDigest md = sha();
        digests.forEach((k, v) -> md.update((k + "\0" + v + "\n").getBytes(StandardCharsets.UTF_8)));
        return HexFormat.of().formatHex(md.digest());
    }

    /** A short description of how two maps differ (at most a few entries), or null when equal. */
    public static String diff(Map<String, String> want, Map<String, String> got) {
        if (want.equals(got)) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        int n = 0;
        for (String k : want.keySet()) {
            if (!want.get(k).equals(got.get(k)) && n++ < 5) {
                b.append(k).append(": want ").append(want.get(k)).append(" got ").append(got.get(k)).append("; ");
            }
        }
        for (String k : got.keySet()) {
            if (!want.containsKey(k) && n++ < 5) {
                b.append(k).append(": unexpected; ");
            }
        }
        return b.append(n).append(" differences").toString();
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
