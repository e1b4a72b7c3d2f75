package io.clonefs.pg.mask;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ValueSearch} against a brute-force search: random data, values planted across read boundaries. */
class ValueSearchTest {
    @TempDir
    Path dir;

    /** Every (file, offset, tag) where a value starts, by comparing each value at each position. */
    private static TreeSet<String> brute(String file, byte[] data, List<byte[]> values, List<Integer> tags) {
        TreeSet<String> out = new TreeSet<>();
        for (int i = 0; i < data.length; i++) {
            for (int v = 0; v < values.size(); v++) {
                byte[] val = values.get(v);
                if (i + val.length <= data.length && java.util.Arrays.equals(data, i, i + val.length, val, 0, val.length)) {
                    out.add(file + "@" + i + "#" + tags.get(v));
                }
            }
        }
        return out;
    }

    @Test
    void findsEveryPlantedValueAcrossReadBoundariesAndNothingElse() throws Exception {
        Random rnd = new Random(42);
        for (int round = 0; round < 30; round++) {
            List<byte[]> values = new ArrayList<>();
            List<Integer> tags = new ArrayList<>();
            int n = 1 + rnd.nextInt(40);
            for (int i = 0; i < n; i++) {
                byte[] v = new byte[ValueSearch.MIN_LENGTH + rnd.nextInt(30)];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (byte) ('a' + rnd.nextInt(3)); // a small alphabet: shared prefixes, overlaps
                }
                values.add(v);
                tags.add(i % 5);
            }
            values.add(values.get(0).clone()); // a duplicate with another tag
            tags.add(9);
            Path root = Files.createDirectories(dir.resolve("r" + round));
            TreeSet<String> expected = new TreeSet<>();
            for (int f = 0; f < 3; f++) {
                byte[] data = new byte[rnd.nextInt(5000)];
                for (int j = 0; j < data.length; j++) {
                    data[j] = (byte) ('a' + rnd.nextInt(4));
                }
                for (int k = 0; k < 10 && data.length > 40; k++) {
                    byte[] v = values.get(rnd.nextInt(values.size()));
                    int at = rnd.nextInt(data.length - v.length);
                    System.arraycopy(v, 0, data, at, v.length);
                }
                String name = "sub/f" + f;
                Files.createDirectories(root.resolve("sub"));
                Files.write(root.resolve(name), data);
                expected.addAll(brute(name, data, values, tags));
            }
            ValueSearch s = new ValueSearch(values, tags);
            int chunk = 1 + rnd.nextInt(100); // many reads per file: values straddle them
            ValueSearch.Result r = s.search(root, chunk, Integer.MAX_VALUE);
            assertEquals(expected.size(), r.hitCount(), "round " + round);
            assertEquals(3, r.files());
            List<String> kept = r.hits().stream().map(h -> h.file() + "@" + h.offset() + "#" + h.tag()).toList();
            assertEquals(kept.size(), kept.stream().distinct().count());
            assertTrue(expected.containsAll(kept), kept + " in " + expected);
            for (String f : List.of("sub/f0", "sub/f1", "sub/f2")) { // the first three of each file
                List<String> first = expected.stream().filter(x -> x.startsWith(f + "@"))
                        .sorted(java.util.Comparator.comparingLong(x -> Long.parseLong(x.substring(x.indexOf('@') + 1, x.indexOf('#')))))
                        .toList();
                assertEquals(Math.min(3, first.size()), kept.stream().filter(x -> x.startsWith(f + "@")).count(), f);
            }
        }
    }

    @Test
    void keepsAFewHitsPerFileAndCountsAll() throws Exception {
        byte[] v = "secret-value".getBytes(StandardCharsets.UTF_8);
        ValueSearch s = new ValueSearch(List.of(v), List.of(0));
        byte[] data = ("x".repeat(10) + "secret-value".repeat(10)).getBytes(StandardCharsets.UTF_8);
        Files.write(dir.resolve("a"), data);
        Files.write(dir.resolve("b"), data);
        Files.write(dir.resolve("c"), "nothing here".getBytes(StandardCharsets.UTF_8));
        ValueSearch.Result r = s.search(dir, 7, 20);
        assertEquals(20, r.hitCount());
        assertEquals(List.of("a@10", "a@22", "a@34", "b@10", "b@22", "b@34"),
                r.hits().stream().map(h -> h.file() + "@" + h.offset()).toList());
        assertEquals(3 * 0 + 2L * data.length + 12, r.bytes());
        assertEquals(0, s.search("secret-valu".getBytes(StandardCharsets.UTF_8), 5).hitCount(), "a prefix is not a hit");
    }

    @Test
    void refusesValuesTooShortToSearch() {
        assertThrows(IllegalArgumentException.class, () -> new ValueSearch(List.of(new byte[5]), List.of(0)));
    }
}
