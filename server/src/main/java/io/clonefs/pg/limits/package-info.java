/**
 * Limits of one PostgreSQL server's processes: {@link io.clonefs.pg.limits.Limits} (a memory limit,
 * a CPU weight and settings of its own, as kept with a server's record) and
 * {@link io.clonefs.pg.limits.Cgroups} (the host's cgroup v2 or v1 setup, found in the mount
 * table, and the groups made, limited and removed in it). It knows nothing of servers, records or
 * the manager ({@code io.clonefs.pg} puts limits into effect through it), so it is tested on a
 * directory laid out like a cgroup file system as well as on the host's.
 *
 * <h2>Threads</h2>
 * Stateless; thread-safe as the file system is.
 */
package io.clonefs.pg.limits;
