/**
 * {@code pg mask}: masked copies of a source whose original values are provably gone from the
 * copy's files ({@link io.clonefs.pg.mask.Masking}, rules in {@link io.clonefs.pg.mask.MaskRules},
 * the search in {@link io.clonefs.pg.mask.ValueSearch}).
 */
package io.clonefs.pg.mask;
