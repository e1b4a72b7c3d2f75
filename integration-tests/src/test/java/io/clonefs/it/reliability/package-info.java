/**
 * The reliability campaign (issue 7): crash loops with PostgreSQL, full disks, injected I/O faults,
 * concurrency storms, a differential test of the kernel mount, security and hostile input. The
 * {@code *ReliabilityIT} / {@code PgCrashLoopIT} classes in {@code io.clonefs.it} run the short
 * versions in {@code mvn verify}; {@link io.clonefs.it.reliability.CrashLoop#main} runs the long
 * crash loop ({@code scripts/crash-test.sh}). Results are written up in {@code RELIABILITY.md}.
 *
 * <p>Nothing here depends on JUnit, so that the long runs work from the plain runtime classpath.
 * Every process is started, tracked and stopped by pid through {@code io.clonefs.it.support}.
 */
package io.clonefs.it.reliability;
