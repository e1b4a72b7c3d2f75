package io.clonefs.webhook;

import io.clonefs.api.Api;
import io.clonefs.api.ControlException;
import io.clonefs.api.WebhookApi;
import io.clonefs.base.ErrorKind;
import io.clonefs.daemon.ControlServer;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The daemon's webhook routes (bodies in {@link WebhookApi}):
 * <table>
 *   <caption>Routes</caption>
 *   <tr><th>request</th><th>body</th><th>reply</th></tr>
 *   <tr><td>GET /v1/webhooks</td><td></td><td>[{@link WebhookApi.Webhook}], secrets masked</td></tr>
 *   <tr><td>POST /v1/webhooks</td><td>{@link WebhookApi.AddWebhook}</td><td>201 {@link WebhookApi.Webhook} with its secret</td></tr>
 *   <tr><td>GET /v1/webhooks/deliveries?webhook=ID&amp;limit=N</td><td></td><td>{@link WebhookApi.Deliveries}</td></tr>
 *   <tr><td>DELETE /v1/webhooks/ID</td><td></td><td>{@link Api.Ok}</td></tr>
 *   <tr><td>POST /v1/webhooks/ID/test</td><td></td><td>{@link WebhookApi.TestResult}</td></tr>
 * </table>
 */
public final class WebhookRoutes {
    private final WebhookService service;

    public WebhookRoutes(WebhookService service) {
        this.service = service;
    }

    public void install(ControlServer server) {
        server.extend("webhooks", this::handle);
    }

    private ControlServer.Reply handle(ControlServer.Request r) {
        String path = r.path();
        if (path.isEmpty() || path.equals("/")) {
            if (r.method().equals("GET")) {
                return new ControlServer.Reply(200, service.list());
            }
            method(r, "POST");
            return new ControlServer.Reply(201, service.add(r.body(WebhookApi.AddWebhook.class)));
        }
        String[] parts = path.substring(1).split("/");
        if (parts.length == 1 && parts[0].equals("deliveries")) {
            method(r, "GET");
            String id = param(r.query(), "webhook");
            int limit = 100;
            String l = param(r.query(), "limit");
            if (l != null) {
                try {
                    limit = Integer.parseInt(l);
                } catch (NumberFormatException e) {
                    limit = -1;
                }
                if (limit < 1 || limit > DeliveryLog.KEEP) {
                    throw new ControlException(ErrorKind.BAD_REQUEST, "limit must be a whole number from 1 to "
                            + DeliveryLog.KEEP + ", not '" + l + "'");
                }
            }
            return new ControlServer.Reply(200, service.deliveries(id == null || id.isEmpty() ? null : id, limit));
        }
        if (parts.length == 1) {
            method(r, "DELETE");
            service.remove(parts[0]);
            return new ControlServer.Reply(200, new Api.Ok(true));
        }
        if (parts.length == 2 && parts[1].equals("test")) {
            method(r, "POST");
            return new ControlServer.Reply(200, service.test(parts[0]));
        }
        throw new ControlException(ErrorKind.NO_SUCH_ENDPOINT, "no such endpoint: /v1/webhooks" + path);
    }

    private static String param(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String kv : query.split("&")) {
            if (kv.startsWith(name + "=")) {
                return URLDecoder.decode(kv.substring(name.length() + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static void method(ControlServer.Request r, String want) {
        if (!r.method().equals(want)) {
            throw new ControlException(ErrorKind.METHOD_NOT_ALLOWED, r.method() + " is not allowed here (use " + want + ")");
        }
    }
}
