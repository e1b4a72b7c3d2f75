package io.clonefs.remote;

import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.Daemon;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;

/** Serves the remote and cache routes ({@link RemoteRoutes}) inside the daemon. */
public final class RemotePlugin implements Daemon.Plugin {
    private volatile RemoteService service;

    @Override
    public void start(Engine engine, Mount mount, ControlServer server) {
        service = new RemoteService(engine, engine.directory());
        new RemoteRoutes(service).install(server);
    }

    /**
     * Imports {@code snapshot} ({@code VOLUME@SNAP}) of {@code remote} as a local snapshot (no data
     * copied; reused when imported before) and returns the local volume holding it: what a
     * branch of {@code REMOTE:VOLUME@SNAP} is made from (wired into the pg plugin by the daemon's
     * composition, as an {@code io.clonefs.pg.RemoteSnapshots}).
     */
    public String importVolume(String remote, String snapshot) {
        RemoteService s = service;
        if (s == null) {
            throw new IllegalStateException("the remotes plugin has not started");
        }
        return s.importRemote(remote, snapshot).volume();
    }

    @Override
    public void close() {
        // pushes and clones in flight are cut off with the control API; a push resumes from its journal
    }

    @Override
    public String toString() {
        return "remotes";
    }
}
