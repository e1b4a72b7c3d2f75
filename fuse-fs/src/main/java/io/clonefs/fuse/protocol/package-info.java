/**
 * The raw FUSE protocol under libfuse 2: the request loop ({@code FuseLoop}) that runs libfuse's
 * receive/process calls on long-lived Java threads; the rewrite of libfuse's INIT reply
 * ({@code InitPatch}, the only code that touches libfuse's private structures, checking its
 * version and layout first and falling back to libfuse's own settings); the one encoder of
 * {@code struct fuse_attr_out} ({@link io.clonefs.fuse.protocol.FuseAttr}); and the node id table
 * ({@link io.clonefs.fuse.protocol.NodeIds}) for the requests the loop answers without libfuse.
 *
 * <p>This package knows nothing of paths, volumes or the engine: where the loop needs the
 * filesystem (a SETATTR of times it answers, a FORGET it watches) it calls
 * {@link io.clonefs.fuse.protocol.InterceptedRequests}, which the adapter
 * ({@link io.clonefs.fuse.ops}) implements. It never imports {@code ops} or {@code io.clonefs.fuse}.
 * Protocol structures are little-endian, as on x86-64 and arm64.
 *
 * <p>Thread rules: {@code FuseLoop.run} blocks its caller until the unmount; requests are served
 * by up to 64 worker threads at once, so everything the loop calls must be thread-safe. INIT is
 * answered before any other request arrives.
 */
package io.clonefs.fuse.protocol;
