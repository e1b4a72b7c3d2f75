/**
 * Metadata of a pool: the LMDB environment ({@link io.clonefs.metadata.Lmdb}, schema in
 * {@link io.clonefs.metadata.Schema}), the in-memory, group-committed state
 * ({@link io.clonefs.metadata.MetaStore}) and the copy-on-write B-tree of refcounted nodes
 * ({@link io.clonefs.metadata.CowTree}). Never touches block bytes.
 *
 * <p>Thread rules: {@code MetaStore} and {@code CowTree} methods are called holding the
 * {@code MetaStore} monitor, except {@code MetaStore.commit()}, which takes it itself; {@code Lmdb}
 * is thread-safe.
 */
package io.clonefs.metadata;
