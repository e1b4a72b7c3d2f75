package io.clonefs.pg;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.clonefs.base.ClonefsException;
import io.clonefs.base.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code POOL/pg/state.json}: every managed server and every snapshot schedule. Written atomically
 * (temp file, fsync, rename, fsync of the directory), mode 0600 since it may name a primary server.
 * Not thread-safe: the manager calls it under its state lock.
 */
final class PgStateStore {
    static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** The file's content. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record State(int version, List<PgRecord> servers, List<PgSchedule> schedules) {
        State {
            servers = servers == null ? List.of() : List.copyOf(servers);
            schedules = schedules == null ? List.of() : List.copyOf(schedules);
        }
    }

    private final Path file;

    PgStateStore(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    State load() {
        if (!Files.exists(file)) {
            return new State(VERSION, List.of(), List.of());
        }
        try {
            State s = JSON.readValue(file.toFile(), State.class);
            if (s.version() != VERSION) {
                throw new ClonefsException.PoolFormat(file + " has format version " + s.version()
                        + "; this clonefs reads version " + VERSION);
            }
            return s;
        } catch (IOException e) {
            throw new ClonefsException.PoolFormat("cannot read " + file + ": " + e.getMessage());
        }
    }

    void save(State s) {
        try {
            DurableFiles.writePrivate(file, JSON.writeValueAsBytes(s));
        } catch (IOException e) {
            throw new ClonefsException.IoFailure("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
