package io.clonefs.metadata;

/** A tree root held in a field, for tests that have no dataset record. */
final class TestRoot implements CowTree.RootRef {
    long root;

    TestRoot(long root) {
        this.root = root;
    }

    @Override
    public long get() {
        return root;
    }

    @Override
    public void set(long newRoot) {
        root = newRoot;
    }
}
