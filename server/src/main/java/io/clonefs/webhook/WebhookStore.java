package io.clonefs.webhook;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clonefs.api.WebhookApi;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The pool's webhooks in {@code POOL/webhooks.json} (mode 0600: it holds their secrets), as
 * {@code {"webhooks": [Webhook...]}}. Written whole, durably: a temporary file, fsync, rename over
 * the old one, fsync of the pool directory; a crash leaves the old list or the new one.
 */
final class WebhookStore {
    static final String FILE = "webhooks.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    record Stored(List<WebhookApi.Webhook> webhooks) {
    }

    private final Path file;

    WebhookStore(Path pool) {
        this.file = pool.resolve(FILE);
    }

    Path file() {
        return file;
    }

    List<WebhookApi.Webhook> load() {
        try {
            Stored s = JSON.readValue(Files.readAllBytes(file), Stored.class);
            return s.webhooks() == null ? List.of() : List.copyOf(s.webhooks());
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot read the webhooks in " + file + ": " + e.getMessage(), e);
        }
    }

    void save(List<WebhookApi.Webhook> webhooks) {
        try {
            DurableFiles.writePrivate(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(new Stored(webhooks)));
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot write the webhooks to " + file + ": " + e.getMessage(), e);
        }
    }
}
