package io.clonefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The metrics the daemon exports, the one table that documents them (docs/api/README.md) and the
 * Grafana dashboard (packaging/grafana-clonefs.json) name the same metrics. The exported ones are
 * the {@code "clonefs_..."} string literals of the daemon's modules' sources: every metric is
 * registered by a literal name (a constant or an argument), and no other literal has the prefix.
 */
class MetricsDocTest {
    private static final Path REPO = Path.of("..");
    /** The modules whose classes run in the daemon. */
    private static final List<String> MODULES = List.of("base", "metadata", "engine", "fuse-fs", "server", "cli");
    private static final Pattern LITERAL = Pattern.compile("\"(clonefs_[a-z0-9_]+)\"");
    private static final Pattern ROW = Pattern.compile("(?m)^\\| `(clonefs_[a-z0-9_]+)` \\| (gauge|counter|histogram) \\|");
    private static final Pattern NAME = Pattern.compile("clonefs_[a-z0-9_]+");

    static Set<String> registered() throws IOException {
        Set<String> names = new TreeSet<>();
        for (String module : MODULES) {
            try (Stream<Path> files = Files.walk(REPO.resolve(module).resolve("src/main/java"))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    Matcher m = LITERAL.matcher(Files.readString(f));
                    while (m.find()) {
                        names.add(m.group(1));
                    }
                }
            }
        }
        return names;
    }

    static Set<String> table() throws IOException {
        Set<String> names = new TreeSet<>();
        Matcher m = ROW.matcher(Files.readString(REPO.resolve("docs/api/README.md")));
        while (m.find()) {
            assertTrue(names.add(m.group(1)), "listed twice: " + m.group(1));
        }
        return names;
    }

    /** The metric names the dashboard's queries use, a histogram's series counted as its name. */
    static Set<String> dashboard() throws IOException {
        JsonNode d = new ObjectMapper().readTree(REPO.resolve("packaging/grafana-clonefs.json").toFile());
        assertEquals("clonefs", d.get("uid").asText());
        Set<String> names = new TreeSet<>();
        List<JsonNode> panels = new ArrayList<>();
        d.get("panels").forEach(panels::add);
        assertFalse(panels.isEmpty(), "no panels");
        for (JsonNode p : panels) {
            if (p.get("type").asText().equals("row")) {
                continue;
            }
            assertTrue(p.get("targets").size() > 0, "no queries: " + p.get("title"));
            for (JsonNode t : p.get("targets")) {
                String expr = t.get("expr").asText();
                assertTrue(expr.contains("instance=~\"$instance\""), "not filtered by the Daemon variable: " + expr);
                Matcher m = NAME.matcher(expr);
                while (m.find()) {
                    names.add(m.group().replaceFirst("_(bucket|sum|count)$", ""));
                }
            }
        }
        return names;
    }

    @Test
    void theTableListsExactlyTheMetricsTheDaemonRegisters() throws IOException {
        Set<String> registered = registered();
        assertTrue(registered.size() >= 30, "registered: " + registered);
        assertEquals(registered, table(), "docs/api/README.md's metrics table against the sources' metric names");
    }

    @Test
    void theDashboardShowsEveryMetricOfTheTableAndNoOther() throws IOException {
        assertEquals(table(), dashboard(), "packaging/grafana-clonefs.json's queries against the metrics table");
    }
}
