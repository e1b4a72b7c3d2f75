/**
 * The FUSE adapter proper: libfuse 2's path-level callbacks (jnr-fuse's
 * {@code FuseStubFS}), each a thin translation layer that parses its arguments, resolves the
 * path ({@code Namespace}) or the open file handle ({@code HandleTable}) to a
 * {@link io.clonefs.engine.VolumeFs} and an {@link io.clonefs.engine.InodeId}, calls one engine
 * method and fills the native structure ({@code Attrs}).
 *
 * <p>Every callback goes through {@code FuseCalls.call}, the only place that turns exceptions
 * into {@code -errno}; no exception ever crosses into native code. jnr types ({@code Pointer},
 * {@code FileStat}, {@code Statvfs}, {@code FuseFileInfo}) stay in this package and
 * {@link io.clonefs.fuse.protocol}. This package implements
 * {@link io.clonefs.fuse.protocol.InterceptedRequests} ({@code KernelTimes}) for the requests the
 * request loop answers itself; it never depends on {@link io.clonefs.fuse}.
 *
 * <p>Thread rules: the request loop runs many worker threads, so every callback may run on many
 * threads at once. The adapter keeps no lock of its own on the data path: the open-file table,
 * the node id table and the dataset cache are concurrent structures, and ordering of reads and
 * writes to one inode is the engine's job (see {@link io.clonefs.engine.VolumeFs}).
 */
package io.clonefs.fuse.ops;
