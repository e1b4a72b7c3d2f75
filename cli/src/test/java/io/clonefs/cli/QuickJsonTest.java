package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.clonefs.api.Api;
import io.clonefs.api.HttpJsonClient;
import io.clonefs.cli.common.Output;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link QuickJson} reads what the daemon's mapper writes and prints what {@code Output.json} (Jackson) prints. */
class QuickJsonTest {
    /** Names and times with everything a JSON string can hold: quotes, backslashes, control characters, non-ASCII, a surrogate pair. */
    private static final String[] ODD = {"", "plain", "q\"uote", "back\\slash", "slash/", "tab\tnl\nret\rbs\bff\f",
        "ctl\u0000\u0001\u001f\u007f", "caf\u00e9 \u4e2d \ud83d\ude00", "\u2028\u2029", "<&>'"};

    private static Api.Datasets datasets() {
        List<Api.VolumeView> vols = new ArrayList<>();
        List<Api.SnapshotView> snaps = new ArrayList<>();
        for (int i = 0; i < ODD.length; i++) {
            vols.add(new Api.VolumeView(ODD[i], i % 2 == 0 ? null : ODD[i], i % 3 == 0 ? null : "2025-01-31T11:00:00.123Z",
                    i * 8192L, i == 3 ? Long.MAX_VALUE : -i));
            snaps.add(new Api.SnapshotView(ODD[i] + "@s", ODD[i], "2025-01-31T11:00:0" + i + "Z", Long.MIN_VALUE, 0,
                    i % 3 == 0 ? List.of() : i % 3 == 1 ? null : Arrays.asList(ODD[i], null, "c")));
        }
        return new Api.Datasets(vols, snaps);
    }

    private static String viaJackson(Object value) {
        StringWriter w = new StringWriter();
        Output.json(new PrintWriter(w), value);
        String s = w.toString();
        return s.substring(0, s.length() - System.lineSeparator().length());
    }

    @Test
    void printsWhatJacksonPrints() {
        Api.Datasets d = datasets();
        assertEquals(viaJackson(d), QuickJson.pretty(d));
        for (Api.Datasets e : new Api.Datasets[] {new Api.Datasets(List.of(), List.of()), new Api.Datasets(null, null),
            new Api.Datasets(Arrays.asList((Api.VolumeView) null), Arrays.asList((Api.SnapshotView) null)),
            new Api.Datasets(d.volumes().subList(0, 1), List.of())}) {
            assertEquals(viaJackson(e), QuickJson.pretty(e));
        }
        for (String s : ODD) {
            for (long n : new long[] {0, 1, -1, 9999, 10_000, Long.MAX_VALUE, Long.MIN_VALUE}) {
                assertEquals(viaJackson(new Api.Created(s, n)), QuickJson.pretty(new Api.Created(s, n)));
                for (boolean b : new boolean[] {false, true}) {
                    assertEquals(viaJackson(new Api.Cloned(s, s + "@x", b, n)), QuickJson.pretty(new Api.Cloned(s, s + "@x", b, n)));
                    assertEquals(viaJackson(new Api.Destroyed(s, b, n)), QuickJson.pretty(new Api.Destroyed(s, b, n)));
                }
            }
        }
        assertEquals(viaJackson(new Api.Created(null, 1)), QuickJson.pretty(new Api.Created(null, 1)));
        assertEquals(viaJackson(new Api.Cloned(null, null, true, 1)), QuickJson.pretty(new Api.Cloned(null, null, true, 1)));
    }

    @Test
    void readsWhatTheDaemonsMapperWrites() throws Exception {
        ObjectMapper wire = HttpJsonClient.JSON;
        ObjectMapper pretty = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Api.Datasets d = datasets();
        for (ObjectMapper m : new ObjectMapper[] {wire, pretty}) {
            assertEquals(d, QuickJson.datasets(QuickJson.parse(m.writeValueAsBytes(d))));
            for (String s : ODD) {
                Api.Created c = new Api.Created(s, -5);
                assertEquals(c, QuickJson.created(QuickJson.parse(m.writeValueAsBytes(c))));
                Api.Cloned cl = new Api.Cloned(s, null, true, Long.MAX_VALUE);
                assertEquals(cl, QuickJson.cloned(QuickJson.parse(m.writeValueAsBytes(cl))));
                Api.Destroyed de = new Api.Destroyed(s, true, 0);
                assertEquals(de, QuickJson.destroyed(QuickJson.parse(m.writeValueAsBytes(de))));
                Api.Error er = new Api.Error(s, s + "!");
                assertEquals(er, QuickJson.error(m.writeValueAsBytes(er)));
            }
        }
        // the client's mapper ignores unknown fields and reads missing ones as null, 0, false
        assertEquals(new Api.Cloned("n", null, false, 0),
                QuickJson.cloned(QuickJson.parse(bytes("{\"name\":\"n\",\"extra\":[1,{\"a\":null}],\"more\":-1.5e3}"))));
        assertEquals(new Api.Datasets(null, List.of()), QuickJson.datasets(QuickJson.parse(bytes(" {\"snapshots\" : [ ]} "))));
        Map<String, Object> o = QuickJson.object(QuickJson.parse(bytes("{\"s\":\"\\u00e9\\ud83d\\ude00\\/\",\"n\":-12,\"t\":true}")));
        assertEquals("\u00e9\ud83d\ude00/", o.get("s"));
        assertEquals(-12L, o.get("n"));
        assertEquals(Boolean.TRUE, o.get("t"));
    }

    @Test
    void malformedRepliesAreMalformed() {
        for (String bad : new String[] {"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "\"x", "tru", "nul", "01", "1.",
            "-", "{\"a\":\"\u0001\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{} x", "{\"name\":1}"}) {
            assertThrows(QuickJson.Malformed.class, () -> QuickJson.created(QuickJson.parse(bytes(bad))), bad);
        }
        assertThrows(QuickJson.Malformed.class, () -> QuickJson.created(QuickJson.parse(bytes("[]"))));
        assertThrows(QuickJson.Malformed.class, () -> QuickJson.created(QuickJson.parse(bytes("{\"elapsedMicros\":1.5}"))));
        assertThrows(QuickJson.Malformed.class, () -> QuickJson.datasets(QuickJson.parse(bytes("{\"volumes\":{}}"))));
        assertThrows(QuickJson.Malformed.class, () -> QuickJson.parse(bytes("[".repeat(100) + "]".repeat(100))));
        assertNull(QuickJson.error(bytes("not json")));
        assertNull(QuickJson.error(bytes("[]")));
    }

    @Test
    void requestBodiesAreTheRecordsTheServerReads() throws Exception {
        for (String s : ODD) {
            assertEquals(new Api.CreateSnapshot(s, s + "x"), HttpJsonClient.JSON.readValue(
                    QuickJson.request("volume", s, "snapshot", s + "x"), Api.CreateSnapshot.class));
            assertEquals(new Api.CreateClone(s, "n"), HttpJsonClient.JSON.readValue(
                    QuickJson.request("source", s, "name", "n"), Api.CreateClone.class));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
