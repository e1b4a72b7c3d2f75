/**
 * S3 remotes: pushing snapshots to an object store and cloning them on other pools (docs/design.md,
 * "Remotes"). {@link io.clonefs.remote.Remotes} keeps the pool's remotes, {@link io.clonefs.remote.Pusher}
 * uploads a snapshot as packs, listings and a manifest, {@link io.clonefs.remote.RemoteService}
 * imports and clones them and serves the cache commands, {@link io.clonefs.remote.S3Fetcher} reads
 * blocks back for the engine, {@link io.clonefs.remote.RemoteGc} deletes snapshots and collects what
 * no manifest references (with the lease and push-intent protocol pushes follow). The daemon serves them through {@link io.clonefs.remote.RemoteRoutes};
 * the CLI reaches them through {@link io.clonefs.remote.RemoteClient}.
 */
package io.clonefs.remote;
