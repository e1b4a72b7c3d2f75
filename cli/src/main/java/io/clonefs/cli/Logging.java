package io.clonefs.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Log levels of the runnable: quiet (WARN) for commands, INFO for the daemon, DEBUG with -v. */
final class Logging {
    private Logging() {
    }

    static void level(String logger, String level) {
        if (LoggerFactory.getLogger(logger) instanceof Logger l) {
            l.setLevel(Level.toLevel(level, Level.INFO));
        }
    }
}
