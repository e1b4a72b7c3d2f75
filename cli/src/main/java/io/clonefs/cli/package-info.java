/**
 * The {@code clonefs} command line (picocli). Every dataset command is a client of the pool's
 * daemon when one runs (its {@code daemon.json} is present and it answers), else it opens the pool
 * itself; see {@link io.clonefs.cli.common.Pools}. User errors end in one line on stderr and a stable exit
 * code ({@link io.clonefs.cli.ExitCodes}); stack traces only with {@code -v}. Single-threaded.
 */
package io.clonefs.cli;
