/**
 * The control API's wire: the JSON records of every route ({@link io.clonefs.api.Api},
 * {@link io.clonefs.api.PgApi}, {@link io.clonefs.api.RemoteApi}, {@link io.clonefs.api.WebhookApi},
 * {@link io.clonefs.api.PushResult}),
 * the mapping between exceptions and error replies, read from the one table
 * {@link io.clonefs.base.ErrorKind} ({@link io.clonefs.api.ApiErrors}), the channel's own failure
 * ({@link io.clonefs.api.ControlException}) and the one HTTP client
 * ({@link io.clonefs.api.HttpJsonClient}) with the typed client of the PostgreSQL routes
 * ({@link io.clonefs.api.PgClient}). The daemon's and the remotes' typed clients
 * ({@code DaemonClient}, {@code RemoteClient}) wrap the same HTTP client.
 *
 * <p>Below the daemon, the branch manager and the remotes: this package imports none of
 * {@code io.clonefs.daemon}, {@code io.clonefs.pg}, {@code io.clonefs.remote}. The records are
 * plain values, so that the JSON (documented in {@code openapi.json}) does not depend on engine
 * types. Everything here is immutable or thread-safe.
 */
package io.clonefs.api;
