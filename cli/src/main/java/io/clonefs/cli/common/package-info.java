/**
 * What every {@code clonefs} command shares, whichever package it lives in: where the pool is
 * ({@link io.clonefs.cli.common.Pools}), how results are printed ({@link io.clonefs.cli.common.Output},
 * {@link io.clonefs.cli.common.Sizes}, {@link io.clonefs.cli.common.Times}) and the user-facing
 * failure with its exit code ({@link io.clonefs.cli.common.CliException}). Depends on no other CLI
 * package, so that {@code io.clonefs.cli} and {@code io.clonefs.cli.pg} both use it without a cycle.
 */
package io.clonefs.cli.common;
