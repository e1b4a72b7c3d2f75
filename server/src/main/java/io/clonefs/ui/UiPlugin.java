package io.clonefs.ui;

import io.clonefs.api.ControlException;
import io.clonefs.api.UiApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.Daemon;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;

/**
 * The web console inside the daemon: {@link UiFront} on the control port, and
 * {@code POST /v1/ui/links} (token or session) for {@code clonefs ui}'s one-time sign-in link.
 */
public final class UiPlugin implements Daemon.Plugin {
    private final Sessions sessions = new Sessions();

    @Override
    public void start(Engine engine, Mount mount, ControlServer server) {
        server.front(new UiFront(server, sessions));
        server.extend("ui", r -> {
            if (!r.path().equals("/links")) {
                throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: /v1/ui" + r.path());
            }
            if (!r.method().equals("POST")) {
                throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED, r.method() + " is not allowed here (use POST)");
            }
            String base = "http://127.0.0.1:" + server.port() + "/ui/";
            return new ControlServer.Reply(201, new UiApi.LoginLink(base, base + "login?code=" + sessions.newCode(),
                    Sessions.CODE_MS / 1000));
        });
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "console";
    }
}
