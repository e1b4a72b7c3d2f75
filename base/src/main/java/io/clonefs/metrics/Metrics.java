package io.clonefs.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * A small metrics registry rendered in the Prometheus text format (version 0.0.4): counters,
 * gauges read when scraped, and latency histograms, each family optionally keyed by one label.
 * No dependencies, so that the engine and the FUSE adapter can record without a framework.
 *
 * <p>Thread rules: thread-safe; recording is lock-free.
 */
public final class Metrics {
    private static final Metrics PROCESS = new Metrics();

    private final ConcurrentMap<String, Family> families = new ConcurrentHashMap<>();

    /** A registry of its own (tests); the daemon uses {@link #process()}. */
    public Metrics() {
    }

    /** The registry of this process (one daemon serves one pool and one mount). */
    public static Metrics process() {
        return PROCESS;
    }

    private enum Kind { COUNTER, GAUGE, HISTOGRAM }

    private static final class Family {
        final Kind kind;
        final String help;
        final String label;
        final ConcurrentMap<String, Object> children = new ConcurrentHashMap<>();

        Family(Kind kind, String help, String label) {
            this.kind = kind;
            this.help = help;
            this.label = label;
        }
    }

    private Family family(String name, Kind kind, String help, String label) {
        Family f = families.computeIfAbsent(name, n -> new Family(kind, help, label));
        if (f.kind != kind) {
            throw new IllegalArgumentException(name + " is already a " + f.kind);
        }
        return f;
    }

    /** A counter; {@code labelValue} is null for a family without a label. */
    public LongAdder counter(String name, String help, String label, String labelValue) {
        return (LongAdder) family(name, Kind.COUNTER, help, label).children
                .computeIfAbsent(labelValue == null ? "" : labelValue, k -> new LongAdder());
    }

    /** A histogram of durations; {@code labelValue} is null for a family without a label. */
    public Histogram histogram(String name, String help, String label, String labelValue) {
        return (Histogram) family(name, Kind.HISTOGRAM, help, label).children
                .computeIfAbsent(labelValue == null ? "" : labelValue, k -> new Histogram());
    }

    /** A gauge whose value is read when scraped (replaces an earlier one of the same name and label). */
    public void gauge(String name, String help, String label, String labelValue, Supplier<Number> value) {
        family(name, Kind.GAUGE, help, label).children.put(labelValue == null ? "" : labelValue, value);
    }

    /** Drops a family (e.g. the gauges of a closed pool). */
    public void remove(String name) {
        families.remove(name);
    }

    /** The Prometheus text exposition of every family. */
    @SuppressWarnings("unchecked")
    public String render() {
        StringBuilder out = new StringBuilder(4096);
        for (Map.Entry<String, Family> e : new TreeMap<>(families).entrySet()) {
            String name = e.getKey();
            Family f = e.getValue();
            out.append("# HELP ").append(name).append(' ').append(f.help).append('\n');
            out.append("# TYPE ").append(name).append(' ').append(f.kind.name().toLowerCase()).append('\n');
            for (Map.Entry<String, Object> c : new TreeMap<>(f.children).entrySet()) {
                String labels = f.label == null || c.getKey().isEmpty() ? "" : f.label + "=\"" + escape(c.getKey()) + "\"";
                switch (f.kind) {
                    case COUNTER -> line(out, name, labels, ((LongAdder) c.getValue()).sum());
                    case GAUGE -> {
                        Number v;
                        try {
                            v = ((Supplier<Number>) c.getValue()).get();
                        } catch (RuntimeException ex) {
                            continue; // a gauge of a closed pool: leave it out
                        }
                        line(out, name, labels, v);
                    }
                    case HISTOGRAM -> ((Histogram) c.getValue()).render(out, name, labels);
                    default -> throw new IllegalStateException();
                }
            }
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String name, String labels, Number v) {
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(v).append('\n');
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
