package io.clonefs.webhook;

import io.clonefs.daemon.ControlServer;
import io.clonefs.daemon.Daemon;
import io.clonefs.daemon.EventLog;
import io.clonefs.engine.Engine;
import io.clonefs.fuse.Mount;

/** Serves the webhook routes ({@link WebhookRoutes}) inside the daemon and feeds them its event log. */
public final class WebhookPlugin implements Daemon.Plugin {
    private volatile WebhookService service;

    @Override
    public void start(Engine engine, Mount mount, ControlServer server) {
        String v = WebhookPlugin.class.getPackage().getImplementationVersion();
        WebhookService s = new WebhookService(engine.directory(), v == null ? "dev" : v);
        EventLog events = server.events();
        if (events != null) {
            s.attach(events);
        }
        new WebhookRoutes(s).install(server);
        service = s;
    }

    @Override
    public void close() {
        WebhookService s = service;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public String toString() {
        return "webhooks";
    }
}
