/**
 * What every layer of clonefs shares, and nothing else: the error table ({@link io.clonefs.base.ErrorKind},
 * {@link io.clonefs.base.Errno}, {@link io.clonefs.base.ClonefsException}), small value types
 * ({@link io.clonefs.base.BlockId}, {@link io.clonefs.base.SnapshotName}), the one binding of the C
 * library ({@link io.clonefs.base.LibC}) and the one way to run an external program
 * ({@link io.clonefs.base.Command}).
 *
 * <p>This package imports nothing of clonefs; every other package may import it.
 *
 * <p>Thread rules: the value types and the table are immutable; {@code LibC} is thread-safe;
 * a {@code Command} is built and run by one thread.
 */
package io.clonefs.base;
