package io.clonefs.pg.mask;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Searches every byte of a tree of files for any of many byte strings at once (the original values
 * {@code pg mask --verify} sampled). Each value is at least {@value #MIN_LENGTH} bytes; its first
 * {@value #MIN_LENGTH} bytes are a key in an open-addressing hash table, so that each byte of input
 * costs a shift and one probe of a table that is mostly empty, and only a key that matches is
 * compared in full. A value that straddles two reads is found: each read keeps the last bytes of
 * the one before.
 */
public final class ValueSearch {
    /** The shortest value searched for: shorter ones would be found by chance in any large file. */
    public static final int MIN_LENGTH = 6;
    private static final long KEY_MASK = (1L << (8 * MIN_LENGTH)) - 1;
    private static final long USED = 1L << 63;

    /** One place a value was found: the file (relative to the root searched), its offset, the value's tag. */
    public record Hit(String file, long offset, int tag) {
    }

    /** What a search read and found. */
    public record Result(long files, long bytes, long hitCount, List<Hit> hits) {
    }

    private final byte[][] values;
    private final int[] tags;
    private final int maxLength;
    private final long[] keys;
    private final int[] heads; // first value index with that key, chained through next
    private final int[] next;
    private final int shift;

    /**
     * @param values the byte strings, each at least {@value #MIN_LENGTH} bytes (duplicates are fine)
     * @param tags   for each value, what a hit reports (e.g. the index of its column)
     */
    public ValueSearch(List<byte[]> values, List<Integer> tags) {
        if (values.size() != tags.size()) {
            throw new IllegalArgumentException("one tag per value");
        }
        this.values = values.toArray(new byte[0][]);
        this.tags = tags.stream().mapToInt(Integer::intValue).toArray();
        int cap = Integer.highestOneBit(Math.max(16, this.values.length * 4 - 1)) << 1;
        this.keys = new long[cap];
        this.heads = new int[cap];
        this.next = new int[this.values.length];
        this.shift = 64 - Integer.numberOfTrailingZeros(cap);
        int max = 0;
        for (int i = 0; i < this.values.length; i++) {
            byte[] v = this.values[i];
            if (v.length < MIN_LENGTH) {
                throw new IllegalArgumentException("a value shorter than " + MIN_LENGTH + " bytes");
            }
            max = Math.max(max, v.length);
            long k = key(v, 0) | USED;
            int slot = slot(k);
            while (keys[slot] != 0 && keys[slot] != k) {
                slot = (slot + 1) & (cap - 1);
            }
            next[i] = keys[slot] == k ? heads[slot] : -1;
            keys[slot] = k;
            heads[slot] = i;
        }
        this.maxLength = Math.max(max, MIN_LENGTH);
    }

    /** How many values are searched for. */
    public int size() {
        return values.length;
    }

    private static long key(byte[] b, int at) {
        long k = 0;
        for (int j = 0; j < MIN_LENGTH; j++) {
            k = (k << 8) | (b[at + j] & 0xff);
        }
        return k;
    }

    private int slot(long usedKey) {
        return (int) ((usedKey * 0x9E3779B97F4A7C15L) >>> shift);
    }

    /** Where the values are found in {@code data} (every hit counted, the first ones kept: see {@link Collector}). */
    public Result search(byte[] data, int maxHits) {
        Collector c = new Collector(maxHits);
        scan(data, data.length, true, 0, "", c);
        return new Result(1, data.length, c.count, c.hits);
    }

    /**
     * Searches every regular file under {@code root} (symbolic links are not followed), in the
     * order of their paths, reading {@code chunk} bytes at a time.
     */
    public Result search(Path root, int chunk, int maxHits) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = new ArrayList<>(s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList());
        }
        files.sort(null);
        Collector c = new Collector(maxHits);
        long bytes = 0;
        byte[] buf = new byte[Math.max(chunk, 1) + maxLength];
        for (Path f : files) {
            bytes += searchFile(f, root.relativize(f).toString(), buf, c);
        }
        return new Result(files.size(), bytes, c.count, c.hits);
    }

    private long searchFile(Path f, String name, byte[] buf, Collector c) throws IOException {
        long read = 0;
        long base = 0; // the file offset of buf[0]
        int valid = 0;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            boolean eof = false;
            while (!eof) {
                while (valid < buf.length) {
                    int n = ch.read(ByteBuffer.wrap(buf, valid, buf.length - valid));
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    valid += n;
                    read += n;
                }
                int done = scan(buf, valid, eof, base, name, c);
                System.arraycopy(buf, done, buf, 0, valid - done);
                base += done;
                valid -= done;
            }
        }
        return read;
    }

    /**
     * Scans {@code buf[0, valid)}: every start position whose longest value fits, or all of them at
     * the end of the input. Returns how many positions were scanned (the rest is kept for the next
     * read).
     */
    private int scan(byte[] buf, int valid, boolean end, long base, String name, Collector c) {
        int limit = end ? valid - MIN_LENGTH + 1 : valid - maxLength + 1;
        if (limit <= 0) {
            return end ? valid : 0;
        }
        long[] ks = keys;
        int mask = ks.length - 1;
        long k = 0;
        for (int j = 0; j < MIN_LENGTH - 1; j++) {
            k = (k << 8) | (buf[j] & 0xff);
        }
        for (int i = 0; i < limit; i++) {
            k = ((k << 8) | (buf[i + MIN_LENGTH - 1] & 0xff)) & KEY_MASK;
            long u = k | USED;
            int slot = (int) ((u * 0x9E3779B97F4A7C15L) >>> shift);
            long at;
            while ((at = ks[slot]) != 0) {
                if (at == u) {
                    for (int v = heads[slot]; v >= 0; v = next[v]) {
                        byte[] val = values[v];
                        if (i + val.length <= valid
                                && Arrays.equals(buf, i, i + val.length, val, 0, val.length)) {
                            c.hit(name, base + i, tags[v]);
                        }
                    }
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
        return end ? valid : limit;
    }

    /** Counts every hit and keeps the first ones, at most {@value #PER_FILE} of a file, so that the kept ones name many files. */
    private static final class Collector {
        static final int PER_FILE = 3;
        final int max;
        final List<Hit> hits = new ArrayList<>();
        long count;
        String file;
        int inFile;

        Collector(int max) {
            this.max = max;
        }

        void hit(String f, long offset, int tag) {
            count++;
            if (!f.equals(file)) {
                file = f;
                inFile = 0;
            }
            if (hits.size() < max && inFile < PER_FILE) {
                hits.add(new Hit(f, offset, tag));
                inFile++;
            }
        }
    }
}
