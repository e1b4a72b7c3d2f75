/**
 * {@code make compare}: clonefs against the ways people clone PostgreSQL today
 * ({@code pg_dump | pg_restore}, {@code CREATE DATABASE ... TEMPLATE}, {@code pg_basebackup}), side
 * by side on one machine, at several source sizes. {@link io.clonefs.compare.Compare} is the entry
 * point; it writes its section of {@code BENCHMARKS.md} and two PNG charts.
 *
 * <p>Threads: the program runs one method at a time on the main thread; only the "simultaneous
 * copies" measurements fan out to a pool of threads, each driving its own external processes and
 * sharing nothing but the {@link io.clonefs.compare.Cleanup} stack (synchronized).
 */
package io.clonefs.compare;
