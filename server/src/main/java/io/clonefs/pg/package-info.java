/**
 * PostgreSQL branches: {@link io.clonefs.pg.PgManager} turns volumes into running PostgreSQL
 * servers (initdb, pg_basebackup import, adopting a volume) and makes branches of them, each a
 * server on a clone with its own port, that live until destroyed, reset or expired. Owned by the
 * daemon ({@code io.clonefs.pg.daemon}); the {@code clonefs pg} commands ({@code io.clonefs.cli.pg})
 * reach it through the control API ({@link io.clonefs.pg.PgRoutes}).
 *
 * <h2>Files</h2>
 * <table>
 *   <caption>What the manager keeps under the pool directory</caption>
 *   <tr><th>path</th><th>owner, mode</th><th>content</th></tr>
 *   <tr><td>{@code POOL/pg/state.json}</td><td>root, 0600</td><td>every managed server and snapshot
 *       schedule ({@link io.clonefs.pg.PgRecord}, {@link io.clonefs.pg.PgSchedule}); written atomically</td></tr>
 *   <tr><td>{@code POOL/pg/run/}</td><td>postgres, 0755</td><td>the servers' unix sockets</td></tr>
 *   <tr><td>{@code POOL/pg/log/<name>.log}</td><td>postgres, 0750</td><td>each server's log; removed
 *       with the server</td></tr>
 *   <tr><td>{@code MOUNTPOINT/<name>/data}</td><td>postgres, 0700</td><td>the data directory</td></tr>
 *   <tr><td>{@code CGROUPFS/clonefs/<pool-id>/<name>}</td><td>root</td><td>the cgroup of a running
 *       server with a memory limit or CPU weight ({@code PgLimiter}); removed when it stops</td></tr>
 * </table>
 *
 * <h2>Snapshots it makes</h2>
 * {@code <source>@pgb-<UTC time>} for one branch (destroyed with the last clone of it) and
 * {@code <source>@pgauto-<UTC time>} by a schedule (destroyed by its retention once no clone uses
 * it). {@code branch --at} may use any snapshot of the source.
 *
 * <h2>Classes</h2>
 * {@link io.clonefs.pg.PgManager} is a facade; each question has its own class: the registry of
 * servers, schedules, ports and name locks ({@code PgRegistry}), init and import
 * ({@code PgImports}), branch and reset ({@code PgBranches}), the servers' lifecycle
 * ({@code PgServers}), expiry and scheduled snapshots ({@code PgSchedules}), volumes and snapshots
 * ({@code PgVolumes}), a record's server process ({@code PgProcesses}, over the PostgreSQL runner
 * {@link io.clonefs.pg.process.Postgres}), the settings a server gets ({@code PgServerSettings}),
 * its limits put into effect through cgroups ({@code PgLimiter}, over {@code io.clonefs.pg.limits})
 * and changed ({@code PgServerLimits}), the port range ({@code PgPorts}).
 *
 * <h2>Threads</h2>
 * {@link io.clonefs.pg.PgManager} is thread-safe (see its documentation), and so are the parts it
 * delegates to; the other classes are values or stateless helpers.
 */
package io.clonefs.pg;
