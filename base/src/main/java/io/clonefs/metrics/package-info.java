/**
 * A dependency-free metrics registry (counters, gauges, latency histograms) rendered in the
 * Prometheus text format; the daemon serves it. Thread rules: thread-safe, lock-free recording.
 */
package io.clonefs.metrics;
