package io.clonefs.compare;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Teardown steps (stop a server, unmount, remove a directory) run last-first, each even if an
 * earlier one failed; also run by a shutdown hook so that an interrupted run leaves nothing behind.
 */
final class Cleanup implements AutoCloseable {
    /** A registered step; {@link #run()} runs it now and forgets it. */
    final class Step {
        private final String what;
        private final Runnable action;

        private Step(String what, Runnable action) {
            this.what = what;
            this.action = action;
        }

        void run() {
            boolean mine;
            synchronized (Cleanup.this) {
                mine = steps.remove(this);
            }
            if (mine) {
                runQuietly(this);
            }
        }
    }

    private final Deque<Step> steps = new ArrayDeque<>();
    private final Thread hook = new Thread(this::runAll, "compare-cleanup");

    Cleanup() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    synchronized Step add(String what, Runnable action) {
        Step s = new Step(what, action);
        steps.push(s);
        return s;
    }

    private void runAll() {
        while (true) {
            Step s;
            synchronized (this) {
                s = steps.poll();
            }
            if (s == null) {
                return;
            }
            runQuietly(s);
        }
    }

    private static void runQuietly(Step s) {
        try {
            s.action.run();
        } catch (RuntimeException e) {
            System.err.println("cleanup: " + s.what + " failed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        runAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs anyway
        }
    }
}
