/**
 * The filesystem engine: an open pool ({@link io.clonefs.engine.Engine}) with its volumes,
 * snapshots and clones, and the per-volume filesystem ({@link io.clonefs.engine.VolumeFs}) that
 * works on inode numbers and typed records. Every error is a
 * {@link io.clonefs.base.ClonefsException} carrying an errno.
 *
 * <p>Thread rules: all public types are thread-safe. Lock order: snapshot barrier, then the inode
 * lock, then the metadata monitor; block I/O never happens under the metadata monitor.
 */
package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
