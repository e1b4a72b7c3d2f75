/**
 * {@code clonefs doctor}: the checks of a host ({@link io.clonefs.cli.doctor.Doctor}) against what
 * it is made of ({@link io.clonefs.cli.doctor.Host}: device, configuration and {@code /proc} paths,
 * the environment, the user), so that a test can give it a host where a check fails.
 * Single-threaded.
 */
package io.clonefs.cli.doctor;
