package io.clonefs.cli;

import io.clonefs.api.Api;
import io.clonefs.api.PgApi;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON without Jackson, for {@link FastPath}: a small reader of the control API's replies (and of
 * {@code daemon.json}) and a writer that prints the results of the fast path exactly as
 * {@code Output.json} (Jackson's default pretty printer) prints them: fields in record order,
 * {@code " : "} between name and value, objects one field a line indented by two spaces per object
 * level, arrays inline as {@code [ a, b ]} and {@code [ ]}, control characters escaped as Jackson
 * does. {@code QuickJsonTest} holds it to Jackson's output.
 *
 * <p>Reading is strict where Jackson is strict (malformed JSON is a {@link Malformed}) and lenient
 * where the client's mapper is: unknown fields are ignored, a missing field is null, 0 or false.
 */
final class QuickJson {
    private static final String NL = System.lineSeparator();
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    /** JSON null in a parsed tree (a Java null would not tell "null" from "absent"). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private QuickJson() {
    }

    /** Not JSON, or not the JSON a record needs. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    // ---- reading

    /** Parses a UTF-8 document: a Map (field order kept), List, String, Long, Double, Boolean or {@link #NULL}. */
    static Object parse(byte[] utf8) throws Malformed {
        Reader r = new Reader(new String(utf8, StandardCharsets.UTF_8));
        r.space();
        Object v = r.value(0);
        r.space();
        if (r.i != r.s.length()) {
            throw new Malformed("trailing characters at offset " + r.i);
        }
        return v;
    }

    /** The object a record is read from. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object v) throws Malformed {
        if (v instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new Malformed("not a JSON object");
    }

    static String string(Map<String, Object> o, String field) throws Malformed {
        Object v = o.get(field);
        if (v == null || v == NULL) {
            return null;
        }
        if (v instanceof String s) {
            return s;
        }
        throw new Malformed("'" + field + "' is not a string");
    }

    static long number(Map<String, Object> o, String field) throws Malformed {
        Object v = o.get(field);
        if (v == null || v == NULL) {
            return 0;
        }
        if (v instanceof Long l) {
            return l;
        }
        throw new Malformed("'" + field + "' is not an integer");
    }

    static boolean bool(Map<String, Object> o, String field) throws Malformed {
        Object v = o.get(field);
        if (v == null || v == NULL) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new Malformed("'" + field + "' is not a boolean");
    }

    /** A list field: null if absent or null, else its elements (JSON nulls as null). */
    private static List<?> array(Map<String, Object> o, String field) throws Malformed {
        Object v = o.get(field);
        if (v == null || v == NULL) {
            return null;
        }
        if (v instanceof List<?> l) {
            return l;
        }
        throw new Malformed("'" + field + "' is not an array");
    }

    static Api.Datasets datasets(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        List<?> vols = array(o, "volumes");
        List<Api.VolumeView> volumes = null;
        if (vols != null) {
            volumes = new ArrayList<>(vols.size());
            for (Object e : vols) {
                volumes.add(e == NULL ? null : volume(e));
            }
        }
        List<?> snaps = array(o, "snapshots");
        List<Api.SnapshotView> snapshots = null;
        if (snaps != null) {
            snapshots = new ArrayList<>(snaps.size());
            for (Object e : snaps) {
                snapshots.add(e == NULL ? null : snapshot(e));
            }
        }
        return new Api.Datasets(volumes, snapshots);
    }

    static Api.VolumeView volume(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        return new Api.VolumeView(string(o, "name"), string(o, "origin"), string(o, "createdAt"),
                number(o, "referencedBytes"), number(o, "uniqueBytes"));
    }

    static Api.SnapshotView snapshot(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        List<?> c = array(o, "clones");
        List<String> clones = null;
        if (c != null) {
            clones = new ArrayList<>(c.size());
            for (Object e : c) {
                if (e == NULL) {
                    clones.add(null);
                } else if (e instanceof String s) {
                    clones.add(s);
                } else {
                    throw new Malformed("'clones' holds a non-string");
                }
            }
        }
        return new Api.SnapshotView(string(o, "name"), string(o, "volume"), string(o, "createdAt"),
                number(o, "referencedBytes"), number(o, "uniqueBytes"), clones);
    }

    static Api.Created created(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        return new Api.Created(string(o, "name"), number(o, "elapsedMicros"));
    }

    static Api.Cloned cloned(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        return new Api.Cloned(string(o, "name"), string(o, "origin"), bool(o, "snapshotCreated"), number(o, "elapsedMicros"));
    }

    static Api.Destroyed destroyed(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        return new Api.Destroyed(string(o, "name"), bool(o, "recursive"), number(o, "elapsedMicros"));
    }

    static PgApi.Branched branched(Object v) throws Malformed {
        Map<String, Object> o = object(v);
        Object t = o.get("millis");
        PgApi.Timings millis = null;
        if (t != null && t != NULL) {
            Map<String, Object> m = object(t);
            millis = new PgApi.Timings(number(m, "checkpoint"), number(m, "snapshot"), number(m, "cloneVolume"),
                    number(m, "prepare"), number(m, "start"), number(m, "promote"), number(m, "firstQuery"), number(m, "total"));
        }
        long port = number(o, "port");
        if (port != (int) port) {
            throw new Malformed("'port' is out of range");
        }
        return new PgApi.Branched(string(o, "name"), string(o, "uri"), (int) port, string(o, "source"), string(o, "snapshot"),
                bool(o, "snapshotCreated"), string(o, "expiresAt"), millis);
    }

    /** An error reply's body, or null when it is not one (as the client's mapper reads it). */
    static Api.Error error(byte[] body) {
        try {
            Map<String, Object> o = object(parse(body));
            return new Api.Error(string(o, "code"), string(o, "message"));
        } catch (Malformed e) {
            return null;
        }
    }

    private static final class Reader {
        private static final int MAX_DEPTH = 64;
        final String s;
        int i;

        Reader(String s) {
            this.s = s;
        }

        void space() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                i++;
            }
        }

        Malformed error(String what) {
            return new Malformed(what + " at offset " + i);
        }

        Object value(int depth) throws Malformed {
            if (depth > MAX_DEPTH) {
                throw error("nested too deep");
            }
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    return word("true", Boolean.TRUE);
                case 'f':
                    return word("false", Boolean.FALSE);
                case 'n':
                    return word("null", NULL);
                default:
                    if (c == '-' || c >= '0' && c <= '9') {
                        return number();
                    }
                    throw error("unexpected '" + c + "'");
            }
        }

        private Object word(String w, Object v) throws Malformed {
            if (!s.startsWith(w, i)) {
                throw error("unexpected token");
            }
            i += w.length();
            return v;
        }

        private Map<String, Object> object(int depth) throws Malformed {
            Map<String, Object> m = new LinkedHashMap<>();
            i++; // {
            space();
            if (i < s.length() && s.charAt(i) == '}') {
                i++;
                return m;
            }
            while (true) {
                space();
                if (i >= s.length() || s.charAt(i) != '"') {
                    throw error("expected a field name");
                }
                String name = string();
                space();
                if (i >= s.length() || s.charAt(i) != ':') {
                    throw error("expected ':'");
                }
                i++;
                space();
                m.put(name, value(depth + 1));
                space();
                if (i >= s.length()) {
                    throw error("unexpected end");
                }
                char c = s.charAt(i++);
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> array(int depth) throws Malformed {
            List<Object> l = new ArrayList<>();
            i++; // [
            space();
            if (i < s.length() && s.charAt(i) == ']') {
                i++;
                return l;
            }
            while (true) {
                space();
                l.add(value(depth + 1));
                space();
                if (i >= s.length()) {
                    throw error("unexpected end");
                }
                char c = s.charAt(i++);
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    throw error("expected ',' or ']'");
                }
            }
        }

        private String string() throws Malformed {
            i++; // "
            StringBuilder b = null;
            int start = i;
            while (true) {
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(i);
                if (c == '"') {
                    String tail = s.substring(start, i++);
                    return b == null ? tail : b.append(tail).toString();
                }
                if (c < 0x20) {
                    throw error("control character in a string");
                }
                if (c != '\\') {
                    i++;
                    continue;
                }
                if (b == null) {
                    b = new StringBuilder();
                }
                b.append(s, start, i);
                if (i + 1 >= s.length()) {
                    throw error("unterminated escape");
                }
                char e = s.charAt(i + 1);
                i += 2;
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        int cp = 0;
                        for (int k = 0; k < 4; k++) {
                            int d = Character.digit(s.charAt(i + k), 16);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            cp = cp * 16 + d;
                        }
                        i += 4;
                        b.append((char) cp);
                    }
                    default -> throw error("bad escape '\\" + e + "'");
                }
                start = i;
            }
        }

        private Object number() throws Malformed {
            int start = i;
            if (s.charAt(i) == '-') {
                i++;
            }
            int digits = i;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == digits || s.charAt(digits) == '0' && i - digits > 1) {
                throw error("bad number");
            }
            boolean integral = true;
            if (i < s.length() && s.charAt(i) == '.') {
                integral = false;
                i++;
                int f = i;
                while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                    i++;
                }
                if (i == f) {
                    throw error("bad number");
                }
            }
            if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
                integral = false;
                i++;
                if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                    i++;
                }
                int x = i;
                while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                    i++;
                }
                if (i == x) {
                    throw error("bad number");
                }
            }
            String n = s.substring(start, i);
            if (integral) {
                try {
                    return Long.parseLong(n);
                } catch (NumberFormatException e) {
                    // beyond a long: not one of our fields' values
                }
            }
            return Double.parseDouble(n);
        }
    }

    // ---- writing (Jackson's DefaultPrettyPrinter, as Output.json prints)

    /** A request body: a flat object of string fields, compact. */
    static byte[] request(String... namesAndValues) {
        StringBuilder b = new StringBuilder("{");
        for (int k = 0; k < namesAndValues.length; k += 2) {
            if (k > 0) {
                b.append(',');
            }
            quote(b, namesAndValues[k]);
            b.append(':');
            quote(b, namesAndValues[k + 1]);
        }
        return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The body of {@code POST /v1/pg/branches} as the client's mapper writes a {@link PgApi.BranchRequest}
     * without limits: every field in record order, nulls included, compact.
     */
    static byte[] branchRequest(String source, String name, Integer port, String ttl, boolean checkpoint, boolean protect,
            String at, String suspendAfter) {
        StringBuilder b = new StringBuilder(192).append('{');
        quote(b.append("\"source\":"), source);
        quote(b.append(",\"name\":"), name);
        b.append(",\"port\":").append(port == null ? "null" : port.toString());
        orNull(b.append(",\"ttl\":"), ttl);
        b.append(",\"checkpoint\":").append(checkpoint).append(",\"protected\":").append(protect);
        orNull(b.append(",\"at\":"), at);
        orNull(b.append(",\"suspendAfter\":"), suspendAfter);
        b.append(",\"limits\":null,\"atLsn\":null}");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void orNull(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
        } else {
            quote(b, s);
        }
    }

    static String pretty(Api.Datasets d) {
        Pretty p = new Pretty();
        p.begin();
        p.field("volumes");
        if (d.volumes() == null) {
            p.b.append("null");
        } else {
            p.beginArray(d.volumes().isEmpty());
            for (int k = 0; k < d.volumes().size(); k++) {
                p.element(k);
                Api.VolumeView v = d.volumes().get(k);
                if (v == null) {
                    p.b.append("null");
                    continue;
                }
                p.begin();
                p.field("name").string(v.name());
                p.field("origin").string(v.origin());
                p.field("createdAt").string(v.createdAt());
                p.field("referencedBytes").number(v.referencedBytes());
                p.field("uniqueBytes").number(v.uniqueBytes());
                p.end();
            }
            p.endArray();
        }
        p.field("snapshots");
        if (d.snapshots() == null) {
            p.b.append("null");
        } else {
            p.beginArray(d.snapshots().isEmpty());
            for (int k = 0; k < d.snapshots().size(); k++) {
                p.element(k);
                Api.SnapshotView s = d.snapshots().get(k);
                if (s == null) {
                    p.b.append("null");
                    continue;
                }
                p.begin();
                p.field("name").string(s.name());
                p.field("volume").string(s.volume());
                p.field("createdAt").string(s.createdAt());
                p.field("referencedBytes").number(s.referencedBytes());
                p.field("uniqueBytes").number(s.uniqueBytes());
                p.field("clones");
                if (s.clones() == null) {
                    p.b.append("null");
                } else {
                    p.beginArray(s.clones().isEmpty());
                    for (int c = 0; c < s.clones().size(); c++) {
                        p.element(c);
                        p.string(s.clones().get(c));
                    }
                    p.endArray();
                }
                p.end();
            }
            p.endArray();
        }
        p.end();
        return p.b.toString();
    }

    static String pretty(Api.Created r) {
        Pretty p = new Pretty();
        p.begin();
        p.field("name").string(r.name());
        p.field("elapsedMicros").number(r.elapsedMicros());
        p.end();
        return p.b.toString();
    }

    static String pretty(Api.Cloned r) {
        Pretty p = new Pretty();
        p.begin();
        p.field("name").string(r.name());
        p.field("origin").string(r.origin());
        p.field("snapshotCreated").bool(r.snapshotCreated());
        p.field("elapsedMicros").number(r.elapsedMicros());
        p.end();
        return p.b.toString();
    }

    static String pretty(Api.Destroyed r) {
        Pretty p = new Pretty();
        p.begin();
        p.field("name").string(r.name());
        p.field("recursive").bool(r.recursive());
        p.field("elapsedMicros").number(r.elapsedMicros());
        p.end();
        return p.b.toString();
    }

    static String pretty(PgApi.Branched r) {
        Pretty p = new Pretty();
        p.begin();
        p.field("name").string(r.name());
        p.field("uri").string(r.uri());
        p.field("port").number(r.port());
        p.field("source").string(r.source());
        p.field("snapshot").string(r.snapshot());
        p.field("snapshotCreated").bool(r.snapshotCreated());
        p.field("expiresAt").string(r.expiresAt());
        p.field("millis");
        PgApi.Timings t = r.millis();
        if (t == null) {
            p.b.append("null");
        } else {
            p.begin();
            p.field("checkpoint").number(t.checkpoint());
            p.field("snapshot").number(t.snapshot());
            p.field("cloneVolume").number(t.cloneVolume());
            p.field("prepare").number(t.prepare());
            p.field("start").number(t.start());
            p.field("promote").number(t.promote());
            p.field("firstQuery").number(t.firstQuery());
            p.field("total").number(t.total());
            p.end();
        }
        p.end();
        return p.b.toString();
    }

    /** Objects of records (never empty), in Jackson's default pretty format. */
    private static final class Pretty {
        final StringBuilder b = new StringBuilder(256);
        /** Object nesting (arrays are inline and do not count). */
        private int depth;
        /** Fields written in each open object. */
        private final int[] fields = new int[16];

        void begin() {
            b.append('{');
            fields[++depth] = 0;
        }

        void end() {
            depth--;
            newline();
            b.append('}');
        }

        Pretty field(String name) {
            if (fields[depth]++ > 0) {
                b.append(',');
            }
            newline();
            quote(b, name);
            b.append(" : ");
            return this;
        }

        void beginArray(boolean empty) {
            b.append(empty ? "[" : "[ ");
        }

        void element(int index) {
            if (index > 0) {
                b.append(", ");
            }
        }

        void endArray() {
            b.append(" ]");
        }

        void string(String s) {
            if (s == null) {
                b.append("null");
            } else {
                quote(b, s);
            }
        }

        void number(long n) {
            b.append(n);
        }

        void bool(boolean v) {
            b.append(v);
        }

        private void newline() {
            b.append(NL);
            for (int k = 0; k < depth; k++) {
                b.append("  ");
            }
        }
    }

    /** A JSON string as Jackson writes it: '"', '\' and control characters escaped, the rest as is. */
    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c >= 0x20 && c != '"' && c != '\\') {
                b.append(c);
                continue;
            }
            b.append('\\');
            switch (c) {
                case '"', '\\' -> b.append(c);
                case '\b' -> b.append('b');
                case '\t' -> b.append('t');
                case '\f' -> b.append('f');
                case '\n' -> b.append('n');
                case '\r' -> b.append('r');
                default -> b.append("u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        b.append('"');
    }
}
