/**
 * The block store: fixed-size data blocks in large files, with in-memory free-space tracking
 * whose durable copy the metadata layer keeps. Knows nothing of files or trees.
 *
 * <p>Thread rules: thread-safe; callers order accesses to one block.
 */
package io.clonefs.block;
