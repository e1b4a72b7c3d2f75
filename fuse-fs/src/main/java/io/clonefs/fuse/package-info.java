/**
 * The FUSE adapter: mounts a clonefs pool ({@link io.clonefs.engine.Engine}) as a kernel
 * filesystem with jnr-fuse over libfuse 2.
 *
 * <p>Layout: {@code MOUNTPOINT/<volume>/...} for every volume and, read-only,
 * {@code MOUNTPOINT/.snapshots/<volume>@<snap>/...}. The mount root and {@code .snapshots} are
 * synthetic directories (mode 0755, owned by root) in which nothing can be created.
 *
 * <p>The adapter is a thin translation layer: each callback parses its arguments, resolves the
 * path (or the open file handle) to a {@link io.clonefs.engine.VolumeFs} and an
 * {@link io.clonefs.engine.InodeId}, calls one engine method and fills the native structure.
 * Every callback goes through {@code FuseCalls.call}, the only place that turns exceptions into
 * {@code -errno}; no exception ever crosses into native code. jnr types ({@code Pointer},
 * {@code FileStat}, {@code Statvfs}, {@code FuseFileInfo}) never leave this package.
 *
 * <p>Thread rules: libfuse runs its multithreaded loop, so every callback may run on many native
 * threads at once. The adapter keeps no lock of its own on the data path: the open-file table and
 * the dataset cache are concurrent structures, and ordering of reads and writes to one inode is
 * the engine's job (see {@link io.clonefs.engine.VolumeFs}). {@link io.clonefs.fuse.Mount} methods
 * may be called from any thread; {@code close()} is idempotent.
 */
package io.clonefs.fuse;
