/**
 * Running PostgreSQL: {@link io.clonefs.pg.process.Postgres} starts a server on a data directory as
 * the PostgreSQL OS user, waits until it answers, queries it and stops it, and probes whether a
 * postmaster runs or a port is free. It knows nothing of volumes, branches or the manager's state
 * (it does not depend on {@code io.clonefs.pg}), so the benchmarks and the integration tests can
 * use it as they are.
 *
 * <h2>Threads</h2>
 * Probes are thread-safe; callers serialise the start, promotion and stop of one data directory.
 */
package io.clonefs.pg.process;
