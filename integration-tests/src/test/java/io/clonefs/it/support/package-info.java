/**
 * Helpers of the kernel-mount tests: {@link io.clonefs.it.support.MountedPool}, the JUnit
 * extension that gives each test its mounted pool(s); running processes over
 * {@link io.clonefs.base.Command} (also as the {@code postgres} OS user), driving the
 * {@code clonefs} launcher, PostgreSQL 15 servers with their own port and socket directory, and a
 * scratch {@link io.clonefs.it.support.Workspace} that always unmounts and stops what it started,
 * even when a test fails. Everything the tests start is recorded here and torn
 * down by pid, never by process name.
 */
package io.clonefs.it.support;
