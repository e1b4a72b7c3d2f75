/**
 * The daemon side of {@code clonefs pg}: {@link io.clonefs.pg.daemon.PgPlugin} runs the
 * {@link io.clonefs.pg.PgManager} inside the daemon and serves its routes on the control API.
 */
package io.clonefs.pg.daemon;
