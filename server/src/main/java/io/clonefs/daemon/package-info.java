/**
 * The clonefs daemon: it owns one pool, serves its FUSE mount and answers commands on a local
 * control API.
 *
 * <h2>Files</h2>
 * <table>
 *   <caption>Files the daemon keeps</caption>
 *   <tr><th>file</th><th>mode</th><th>content</th></tr>
 *   <tr><td>{@code POOL/daemon.token}</td><td>0600</td><td>the bearer token of the control API,
 *       new for each start</td></tr>
 *   <tr><td>{@code POOL/daemon.json}</td><td>0600</td><td>{@link io.clonefs.daemon.DaemonInfo}: pid,
 *       port, pool, mount point; written once the mount answers, removed on a clean stop</td></tr>
 *   <tr><td>{@code POOL/daemon.log}</td><td>0600</td><td>output of a daemon started in the
 *       background</td></tr>
 *   <tr><td>{@code RUN/mounts/<sha256 of mount point>.json}</td><td>0600</td><td>the same
 *       {@code DaemonInfo}; lets {@code clonefs umount MOUNTPOINT} find the pool of a mount. {@code RUN}
 *       is {@code $CLONEFS_RUN_DIR}, else {@code /run/clonefs} for root, else
 *       {@code $TMPDIR/clonefs-UID}</td></tr>
 * </table>
 *
 * <h2>Control API</h2>
 * HTTP on 127.0.0.1 only, JSON in and out under {@code /v1}, every request carries
 * {@code Authorization: Bearer TOKEN}. Errors are {@code {"code", "message"}} with status 400 (bad
 * input), 401 (token), 404 (unknown dataset), 409 (conflict, already exists), 507 (no space) or 500.
 * See {@link io.clonefs.daemon.ControlServer} for the routes.
 *
 * <h2>Threads</h2>
 * The control server runs requests on a small pool of threads; {@link io.clonefs.daemon.EngineService}
 * serialises the dataset commands (create, snapshot, clone, destroy) with one lock and relies on the
 * engine's own thread safety for everything else. Stopping ({@link io.clonefs.daemon.Daemon#close()})
 * is idempotent and may come from a shutdown hook (SIGTERM), from {@code POST /v1/shutdown} or from
 * the main thread.
 */
package io.clonefs.daemon;
