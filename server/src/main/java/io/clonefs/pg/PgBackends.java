package io.clonefs.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * How many clients a PostgreSQL server has, read from {@code /proc} without connecting to it:
 * the postmaster's children ({@code /proc/PID/task/PID/children}; the postmaster has one thread)
 * whose process title names a client's address. A backend's title is
 * {@code postgres: [CLUSTER: ]USER DB HOST(PORT) ACTIVITY} (or {@code [local]} for a socket
 * client, a walsender's {@code walsender USER HOST(PORT) ...} alike); the auxiliary processes
 * (checkpointer, background writer, walwriter, autovacuum launcher and workers, logical
 * replication launcher, archiver, startup, walreceiver, parallel workers) name no address. A child
 * that has not set its title yet (a backend just forked, still with the postmaster's command line)
 * counts as a client: better one tick late to suspend than a suspend under a client.
 *
 * <p>A few small reads per server per check, no process started, nothing asked of the server.
 */
final class PgBackends {
    private static final Path PROC = Path.of("/proc");
    private static final Pattern ADDRESS = Pattern.compile("\\[local]|\\S*\\(\\d+\\)");

    private PgBackends() {
    }

    /** The number of client connections of the postmaster {@code pid}; 0 when it has gone. */
    static int clients(long pid) {
        String children;
        try {
            children = Files.readString(PROC.resolve(pid + "/task/" + pid + "/children"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return 0;
        }
        int n = 0;
        for (String child : children.trim().split("\\s+")) {
            if (child.isEmpty()) {
                continue;
            }
            try {
                byte[] cmd = Files.readAllBytes(PROC.resolve(child + "/cmdline"));
                if (isClient(new String(cmd, StandardCharsets.UTF_8).replace('\0', ' '))) {
                    n++;
                }
            } catch (IOException e) {
                // exited meanwhile
            }
        }
        return n;
    }

    /** Whether a postmaster child's command line is that of a client's backend (see the class comment). */
    static boolean isClient(String cmdline) {
        String t = cmdline.strip();
        if (t.isEmpty()) {
            return false; // a zombie: already gone
        }
        if (!t.startsWith("postgres: ")) {
            return true; // forked, title not set yet
        }
        for (String token : t.substring("postgres: ".length()).split("\\s+")) {
            if (ADDRESS.matcher(token).matches()) {
                return true;
            }
        }
        return false;
    }
}
