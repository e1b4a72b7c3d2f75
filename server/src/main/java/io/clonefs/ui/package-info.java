/**
 * The web console ({@code docs/console.md}): {@link io.clonefs.ui.UiPlugin} serves plain ES modules
 * from this jar under {@code /ui/} on the daemon's control port, signs a browser in with the pool's
 * token or a one-time link ({@code clonefs ui}) and lets its session cookie call the {@code /v1} API,
 * CSRF-safe. Depends on {@code io.clonefs.daemon} only.
 */
package io.clonefs.ui;
