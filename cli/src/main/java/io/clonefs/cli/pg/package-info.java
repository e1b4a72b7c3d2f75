/**
 * {@code clonefs pg ...}: the picocli commands, one class per subcommand, over the daemon's
 * {@code /v1/pg} routes ({@link io.clonefs.api.PgClient}). Every command needs the pool's daemon
 * (PostgreSQL servers live on its mount). Uses {@code io.clonefs.cli.common}, never
 * {@code io.clonefs.cli} (which registers {@link io.clonefs.cli.pg.PgCommand}). Single-threaded,
 * except that {@code import} polls the import's progress while it waits.
 */
package io.clonefs.cli.pg;
