/**
 * {@code clonefs pg ...}: the picocli commands and the client of the daemon's {@code /v1/pg}
 * routes. Every command needs the pool's daemon (PostgreSQL servers live on its mount).
 * Single-threaded, except that {@code import} polls the import's progress while it waits.
 */
package io.clonefs.cli.pg;
