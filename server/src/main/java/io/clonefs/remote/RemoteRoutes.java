package io.clonefs.remote;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;
import io.clonefs.api.PushResult;
import io.clonefs.api.RemoteApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.daemon.ControlServer;

/**
 * The daemon's remote routes (bodies in {@link RemoteApi}):
 * <table>
 *   <caption>Routes</caption>
 *   <tr><th>request</th><th>body</th><th>reply</th></tr>
 *   <tr><td>GET /v1/remotes</td><td></td><td>[{@link RemoteConfig}]</td></tr>
 *   <tr><td>POST /v1/remotes</td><td>{@link RemoteApi.AddRemote}</td><td>201 {@link RemoteConfig}</td></tr>
 *   <tr><td>DELETE /v1/remotes/NAME</td><td></td><td>{@link Api.Ok}</td></tr>
 *   <tr><td>POST /v1/remotes/NAME/push</td><td>{@link RemoteApi.Push}</td><td>{@link PushResult}, when done</td></tr>
 *   <tr><td>GET /v1/remotes/NAME/push</td><td></td><td>{@link RemoteApi.Pushes} running now</td></tr>
 *   <tr><td>POST /v1/remotes/NAME/clone</td><td>{@link RemoteApi.Clone}</td><td>201 {@link RemoteApi.RemoteCloned}</td></tr>
 *   <tr><td>POST /v1/remotes/NAME/import</td><td>{@link RemoteApi.Import}</td><td>{@link RemoteApi.RemoteImported}</td></tr>
 *   <tr><td>GET /v1/cache</td><td></td><td>{@link RemoteApi.Cache}</td></tr>
 *   <tr><td>POST /v1/cache/evict</td><td>{@link RemoteApi.Evict}</td><td>{@link RemoteApi.Evicted}</td></tr>
 * </table>
 */
public final class RemoteRoutes {
    private final RemoteService service;

    public RemoteRoutes(RemoteService service) {
        this.service = service;
    }

    public void install(ControlServer server) {
        server.extend("remotes", this::remotes);
        server.extend("cache", this::cache);
    }

    private ControlServer.Reply remotes(ControlServer.Request r) {
        String path = r.path();
        if (path.isEmpty() || path.equals("/")) {
            if (r.method().equals("GET")) {
                return new ControlServer.Reply(200, service.remotes().list());
            }
            method(r, "POST");
            RemoteApi.AddRemote a = r.body(RemoteApi.AddRemote.class);
            RemoteConfig c = service.addRemote(new RemoteConfig(a.name(), a.endpoint(), a.bucket(), a.prefix(), a.region()),
                    new Credentials(a.accessKey(), a.secretKey()));
            return new ControlServer.Reply(201, c);
        }
        String[] parts = path.substring(1).split("/");
        String name = RemoteConfig.checkName(parts[0]);
        if (parts.length == 1) {
            method(r, "DELETE");
            service.remotes().remove(name);
            return new ControlServer.Reply(200, new Api.Ok(true));
        }
        if (parts.length == 2 && parts[1].equals("push")) {
            if (r.method().equals("GET")) {
                return new ControlServer.Reply(200, new RemoteApi.Pushes(service.pushes(name)));
            }
            method(r, "POST");
            RemoteApi.Push p = r.body(RemoteApi.Push.class);
            return new ControlServer.Reply(200, service.push(p.snapshot(), name, x -> { }));
        }
        if (parts.length == 2 && parts[1].equals("import")) {
            method(r, "POST");
            RemoteApi.Import i = r.body(RemoteApi.Import.class);
            return new ControlServer.Reply(200, service.importRemote(name, i.source()));
        }
        if (parts.length == 2 && parts[1].equals("clone")) {
            method(r, "POST");
            RemoteApi.Clone c = r.body(RemoteApi.Clone.class);
            return new ControlServer.Reply(201, service.cloneRemote(name, c.source(), c.name()));
        }
        throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: /v1/remotes" + path);
    }

    private ControlServer.Reply cache(ControlServer.Request r) {
        if (r.path().isEmpty() || r.path().equals("/")) {
            method(r, "GET");
            return new ControlServer.Reply(200, service.cache());
        }
        if (r.path().equals("/evict")) {
            method(r, "POST");
            RemoteApi.Evict e = r.body().length == 0 ? new RemoteApi.Evict(0) : r.body(RemoteApi.Evict.class);
            return new ControlServer.Reply(200, service.evict(e.keepBytes()));
        }
        throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: /v1/cache" + r.path());
    }

    private static void method(ControlServer.Request r, String want) {
        if (!r.method().equals(want)) {
            throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED, r.method() + " is not allowed here (use " + want + ")");
        }
    }
}
