package io.clonefs.engine;

import java.util.List;

/**
 * Result of {@link Engine#fsck()}: every reference count recomputed from every root and compared.
 *
 * @param problems one line per difference; empty when the pool is consistent
 */
public record FsckReport(long roots, long nodes, long blocks, List<String> problems) {
    public boolean clean() {
        return problems.isEmpty();
    }
}
