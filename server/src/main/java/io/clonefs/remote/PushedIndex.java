package io.clonefs.remote;

import io.clonefs.daemon.DaemonFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Where every block of a pushed snapshot went: {@code POOL/remotes/NAME/pushed/ID}, ID being the
 * snapshot's dataset id (never reused), written after its manifest. The next push to the remote
 * reuses a block's place without reading it when the block belongs to a snapshot that still
 * exists here (its dataset id is still listed), and reuses any place by SHA-256 otherwise.
 * Gzip'd: {@code u32 MAGIC, u64 datasetId, UTF snapshot, u32 blockSize, u32 packCount,
 * packCount × UTF packKey, u64 n, n × (u64 blockId, u32 packIndex, u32 slot, sha256[32])}.
 */
public record PushedIndex(long datasetId, String snapshot, int blockSize, List<String> packs, long[] blockIds,
                          int[] packIndex, int[] slots, byte[][] sha256) {
    static final int MAGIC = 0x43465031; // "CFP1"

    public int size() {
        return blockIds.length;
    }

    public byte[] encode() {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64 + blockIds.length * 48);
        try (DataOutputStream o = new DataOutputStream(new GZIPOutputStream(b, 1 << 16))) {
            o.writeInt(MAGIC);
            o.writeLong(datasetId);
            o.writeUTF(snapshot);
            o.writeInt(blockSize);
            o.writeInt(packs.size());
            for (String p : packs) {
                o.writeUTF(p);
            }
            o.writeLong(blockIds.length);
            for (int i = 0; i < blockIds.length; i++) {
                o.writeLong(blockIds[i]);
                o.writeInt(packIndex[i]);
                o.writeInt(slots[i]);
                o.write(sha256[i]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    public static PushedIndex decode(byte[] bytes) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(new ByteArrayInputStream(bytes), 1 << 16))) {
            if (in.readInt() != MAGIC) {
                throw new IOException("not a push record");
            }
            long id = in.readLong();
            String snap = in.readUTF();
            int bs = in.readInt();
            int np = in.readInt();
            List<String> packs = new ArrayList<>(np);
            for (int i = 0; i < np; i++) {
                packs.add(in.readUTF());
            }
            long n = in.readLong();
            if (n < 0 || n > Integer.MAX_VALUE - 8) {
                throw new IOException("bad entry count " + n);
            }
            long[] ids = new long[(int) n];
            int[] pi = new int[(int) n];
            int[] sl = new int[(int) n];
            byte[][] sha = new byte[(int) n][];
            for (int i = 0; i < n; i++) {
                ids[i] = in.readLong();
                pi[i] = in.readInt();
                sl[i] = in.readInt();
                sha[i] = in.readNBytes(32);
                if (sha[i].length != 32 || pi[i] < 0 || pi[i] >= np) {
                    throw new IOException("corrupt entry " + i);
                }
            }
            return new PushedIndex(id, snap, bs, packs, ids, pi, sl, sha);
        }
    }

    /** Writes atomically (mode 0600). */
    public void write(Path file) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DaemonFiles.writePrivate(file, encode());
    }

    /** Every readable push record in {@code dir} (unreadable ones are skipped: they only cost re-reads). */
    public static List<PushedIndex> readAll(Path dir) {
        List<PushedIndex> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().matches("\\d+")) {
                    continue;
                }
                try {
                    out.add(decode(Files.readAllBytes(p)));
                } catch (IOException e) {
                    org.slf4j.LoggerFactory.getLogger(PushedIndex.class).warn("ignoring unreadable push record {}: {}", p, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }
}
