/**
 * The block store: fixed-size data blocks in large files, with in-memory free-space tracking
 * whose durable copy the metadata layer keeps. Knows nothing of files or trees.
 *
 * <p>{@link io.clonefs.block.FileBlockStore} composes the package-private parts: the block files
 * ({@code BlockFiles}, {@code BlockFile}), allocation ({@code Allocator}, {@code FreeSpaceFloor}),
 * zeroing ahead of the high-water mark ({@code Preparer}) and what a sync writes out
 * ({@code RangeSync}). Depends only on {@code base}, {@code metrics} and the metadata layer's
 * {@code BlockSpace}, never on the engine.
 *
 * <p>Thread rules: thread-safe; callers order accesses to one block. Each class states which of
 * its locks guards what.
 */
package io.clonefs.block;
