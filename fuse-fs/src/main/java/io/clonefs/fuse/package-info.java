/**
 * The FUSE mount of a clonefs pool ({@link io.clonefs.engine.Engine}) with jnr-fuse over
 * libfuse 2: {@link io.clonefs.fuse.Mount} mounts, probes and unmounts, and
 * {@link io.clonefs.fuse.MountOptions} says how. This is the package the rest of clonefs uses;
 * the layers below it are
 * <ul>
 *   <li>{@link io.clonefs.fuse.ops}: the path-level callbacks, a thin translation of each libfuse
 *       operation into one {@link io.clonefs.engine.VolumeFs} call, with the one errno translator;
 *   <li>{@link io.clonefs.fuse.protocol}: the raw FUSE protocol under libfuse: the request loop,
 *       the INIT reply rewrite and the few replies written without libfuse.
 * </ul>
 * Dependencies go one way: this package uses both, {@code ops} uses {@code protocol}, and
 * {@code protocol} uses neither. jnr types never appear in this package's API.
 *
 * <p>Layout: {@code MOUNTPOINT/<volume>/...} for every volume and, read-only,
 * {@code MOUNTPOINT/.snapshots/<volume>@<snap>/...}. The mount root and {@code .snapshots} are
 * synthetic directories (mode 0755, owned by root) in which nothing can be created.
 *
 * <p>Thread rules: {@link io.clonefs.fuse.Mount} methods may be called from any thread;
 * {@code close()} is idempotent and bounded in time. The mount runs its request loop on a thread
 * of its own and its workers; closing the mount does not close the engine.
 */
package io.clonefs.fuse;
