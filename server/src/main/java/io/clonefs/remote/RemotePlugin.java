package io.clonefs.remote;

import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.Daemon;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;

/** Serves the remote and cache routes ({@link RemoteRoutes}) inside the daemon. */
public final class RemotePlugin implements Daemon.Plugin {
    @Override
    public void start(Engine engine, Mount mount, ControlServer server) {
        new RemoteRoutes(new RemoteService(engine, engine.directory())).install(server);
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
