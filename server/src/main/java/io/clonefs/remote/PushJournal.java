package io.clonefs.remote;

import io.clonefs.base.ClonefsException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The local journal of a push in progress, {@code POOL/remotes/NAME/push-VOL@SNAP.journal}: one
 * record per pack uploaded, appended and fsync'd once the store acknowledged the pack, so that an
 * interrupted push resumes without uploading those packs again. Each record is
 * {@code u32 length, payload, u32 crc32(payload)}; a torn or corrupt tail is ignored. The first
 * record is the header ({@code u64 snapshot dataset id, u32 blockSize, UTF snapshot}); a journal of
 * another dataset id (the snapshot was destroyed and taken again) is discarded. A pack record is
 * {@code UTF packKey, u32 n, n × (u64 blockId, sha256[32])}, slot i being the i-th.
 */
public final class PushJournal implements AutoCloseable {
    /** One uploaded pack: its full key and, per slot, the local block and its SHA-256. */
    public record PackRecord(String key, long[] blockIds, byte[][] sha256) {
    }

    private final Path file;
    private final FileChannel ch;
    private final List<PackRecord> packs;

    private PushJournal(Path file, FileChannel ch, List<PackRecord> packs) {
        this.file = file;
        this.ch = ch;
        this.packs = packs;
    }

    /** Opens (resuming when it belongs to the same snapshot) or starts the journal. */
    public static PushJournal open(Path file, long datasetId, int blockSize, String snapshot) {
        List<PackRecord> packs = new ArrayList<>();
        long validEnd = -1;
        if (Files.isRegularFile(file)) {
            try {
                byte[] all = Files.readAllBytes(file);
                ByteBuffer bb = ByteBuffer.wrap(all);
                byte[] header = next(bb);
                if (header != null) {
                    DataInputStream in = new DataInputStream(new ByteArrayInputStream(header));
                    if (in.readLong() == datasetId && in.readInt() == blockSize && in.readUTF().equals(snapshot)) {
                        validEnd = bb.position();
                        byte[] rec;
                        while ((rec = next(bb)) != null) {
                            packs.add(decodePack(rec));
                            validEnd = bb.position();
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read push journal " + file + ": " + e.getMessage(), e);
            }
        }
        try {
            Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            PushJournal j = new PushJournal(file, ch, packs);
            if (validEnd < 0) {
                ch.truncate(0);
                ByteArrayOutputStream h = new ByteArrayOutputStream();
                DataOutputStream o = new DataOutputStream(h);
                o.writeLong(datasetId);
                o.writeInt(blockSize);
                o.writeUTF(snapshot);
                j.write(h.toByteArray());
            } else {
                ch.truncate(validEnd);
                ch.position(validEnd);
            }
            return j;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open push journal " + file + ": " + e.getMessage(), e);
        }
    }

    /** The next whole, intact record, or null at the end or at a torn/corrupt one. */
    private static byte[] next(ByteBuffer bb) {
        if (bb.remaining() < 4) {
            return null;
        }
        int start = bb.position();
        int len = bb.getInt();
        if (len < 0 || bb.remaining() < (long) len + 4) {
            bb.position(start);
            return null;
        }
        byte[] p = new byte[len];
        bb.get(p);
        CRC32 crc = new CRC32();
        crc.update(p);
        if (bb.getInt() != (int) crc.getValue()) {
            bb.position(start);
            return null;
        }
        return p;
    }

    private static PackRecord decodePack(byte[] rec) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(rec));
        String key = in.readUTF();
        int n = in.readInt();
        if (n < 0 || n > 1 << 20) {
            throw new IOException("bad pack record");
        }
        long[] ids = new long[n];
        byte[][] shas = new byte[n][];
        for (int i = 0; i < n; i++) {
            ids[i] = in.readLong();
            shas[i] = in.readNBytes(32);
            if (shas[i].length != 32) {
                throw new IOException("truncated pack record");
            }
        }
        return new PackRecord(key, ids, shas);
    }

    static byte[] encodePack(PackRecord r) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64 + r.blockIds().length * 40);
        DataOutputStream o = new DataOutputStream(b);
        try {
            o.writeUTF(r.key());
            o.writeInt(r.blockIds().length);
            for (int i = 0; i < r.blockIds().length; i++) {
                o.writeLong(r.blockIds()[i]);
                o.write(r.sha256()[i]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    /** The packs an earlier, interrupted run of this push uploaded. */
    public List<PackRecord> packs() {
        return List.copyOf(packs);
    }

    /** Records an uploaded pack durably. */
    public synchronized void append(PackRecord r) {
        write(encodePack(r));
        packs.add(r);
    }

    private void write(byte[] payload) {
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer bb = ByteBuffer.allocate(4 + payload.length + 4).putInt(payload.length).put(payload).putInt((int) crc.getValue());
        bb.flip();
        try {
            while (bb.hasRemaining()) {
                ch.write(bb);
            }
            ch.force(false);
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot write push journal " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to lose: every record was forced
        }
    }

    /** Closes and deletes the journal (the push is complete). */
    public void delete() {
        close();
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }
}
