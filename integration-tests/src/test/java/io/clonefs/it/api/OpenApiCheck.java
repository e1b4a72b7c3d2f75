package io.clonefs.it.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A small structural check of replies against the OpenAPI document ({@code docs/api/openapi.json}):
 * the request's path and method are documented, the status is one of the operation's responses,
 * and the JSON body has the documented required properties with the documented types, through
 * {@code $ref}s, arrays and nested objects. Not a full JSON Schema validator: formats, enums and
 * bounds are not checked.
 */
public final class OpenApiCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final JsonNode doc;
    private final Set<String> exercised = new TreeSet<>();

    public OpenApiCheck(byte[] document) {
        try {
            this.doc = JSON.readTree(document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!doc.path("openapi").asText().startsWith("3.")) {
            throw new AssertionError("not an OpenAPI 3 document");
        }
    }

    /** Every documented operation as {@code METHOD /template}. */
    public Set<String> operations() {
        Set<String> out = new TreeSet<>();
        doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
                .forEachRemaining(m -> out.add(m.toUpperCase() + " " + p.getKey())));
        return out;
    }

    /** The operations {@link #check} saw answered (any documented status). */
    public Set<String> exercised() {
        return exercised;
    }

    /** The documented template matching a concrete path ({@code {x}} matches one segment), or null. */
    public String template(String path) {
        String[] want = path.split("\\?", 2)[0].split("/", -1);
        for (Iterator<String> it = doc.get("paths").fieldNames(); it.hasNext(); ) {
            String t = it.next();
            String[] seg = t.split("/", -1);
            if (seg.length != want.length) {
                continue;
            }
            boolean ok = true;
            for (int i = 0; i < seg.length && ok; i++) {
                ok = seg[i].startsWith("{") ? !want[i].isEmpty() : seg[i].equals(want[i]);
            }
            if (ok) {
                return t;
            }
        }
        return null;
    }

    /** Fails unless the reply is documented and structurally matches; returns problems as the message. */
    public void check(String method, String path, int status, String body) {
        String t = template(path);
        if (t == null) {
            throw new AssertionError(method + " " + path + " is not in the OpenAPI document");
        }
        JsonNode op = doc.get("paths").get(t).get(method.toLowerCase());
        if (op == null) {
            throw new AssertionError(method + " " + t + " is not in the OpenAPI document");
        }
        JsonNode resp = op.path("responses").get(Integer.toString(status));
        if (resp == null) {
            throw new AssertionError(method + " " + t + " answered " + status + ", which is not documented: " + body);
        }
        exercised.add(method + " " + t);
        resp = resolve(resp);
        JsonNode schema = resp.path("content").path("application/json").get("schema");
        if (schema == null) {
            return; // text (metrics) or no body
        }
        JsonNode value;
        try {
            value = JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " -> " + status + ": body is not JSON: " + body);
        }
        List<String> problems = new ArrayList<>();
        checkValue(value, schema, "$", problems);
        if (!problems.isEmpty()) {
            throw new AssertionError(method + " " + path + " -> " + status + " does not match the document: " + problems
                    + "\n" + body);
        }
    }

    /** Checks a JSON value against a named schema of {@code components/schemas}. */
    public void checkSchema(String schemaName, JsonNode value) {
        List<String> problems = new ArrayList<>();
        checkValue(value, doc.at("/components/schemas/" + schemaName), "$", problems);
        if (!problems.isEmpty()) {
            throw new AssertionError(value + " is not a " + schemaName + ": " + problems);
        }
    }

    private JsonNode resolve(JsonNode n) {
        while (n.has("$ref")) {
            String ref = n.get("$ref").asText();
            if (!ref.startsWith("#")) {
                throw new AssertionError("external $ref " + ref);
            }
            JsonNode target = doc.at(ref.substring(1));
            if (target.isMissingNode()) {
                throw new AssertionError("dangling $ref " + ref);
            }
            n = target;
        }
        return n;
    }

    private void checkValue(JsonNode v, JsonNode schema, String where, List<String> problems) {
        JsonNode s = resolve(schema);
        if (v == null || v.isNull()) {
            if (!s.path("nullable").asBoolean(false)) {
                problems.add(where + " is null");
            }
            return;
        }
        String type = s.path("type").asText("");
        switch (type) {
            case "object" -> {
                if (!v.isObject()) {
                    problems.add(where + " is not an object");
                    return;
                }
                for (JsonNode r : s.path("required")) {
                    if (!v.has(r.asText())) {
                        problems.add(where + "." + r.asText() + " is missing");
                    }
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = s.path("properties").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> p = it.next();
                    if (v.has(p.getKey()) && !(v.get(p.getKey()).isNull() && !isRequired(s, p.getKey())
                            && resolve(p.getValue()).path("nullable").asBoolean(false))) {
                        checkValue(v.get(p.getKey()), p.getValue(), where + "." + p.getKey(), problems);
                    }
                }
            }
            case "array" -> {
                if (!v.isArray()) {
                    problems.add(where + " is not an array");
                    return;
                }
                int i = 0;
                for (JsonNode item : v) {
                    checkValue(item, s.get("items"), where + "[" + i++ + "]", problems);
                }
            }
            case "string" -> {
                if (!v.isTextual()) {
                    problems.add(where + " is not a string");
                }
            }
            case "integer" -> {
                if (!v.isIntegralNumber()) {
                    problems.add(where + " is not an integer");
                }
            }
            case "boolean" -> {
                if (!v.isBoolean()) {
                    problems.add(where + " is not a boolean");
                }
            }
            default -> {
                // untyped: anything goes
            }
        }
    }

    private static boolean isRequired(JsonNode s, String name) {
        for (JsonNode r : s.path("required")) {
            if (r.asText().equals(name)) {
                return true;
            }
        }
        return false;
    }
}
