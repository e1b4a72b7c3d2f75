package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.metadata.CowTree;
import io.clonefs.metadata.DatasetRecord;
import io.clonefs.metadata.MetaStore;

/**
 * Where one dataset's tree root is kept: its {@link DatasetRecord}, found by name and checked by
 * id, so that a volume destroyed (or destroyed and re-created) under an open {@link Volume} is
 * reported as gone rather than read or written. Every tree change of the dataset's parts
 * ({@link InodeTable}, {@link Directories}, {@link FileData}, {@link CopyOnWrite}) goes through
 * this reference.
 *
 * <p>Thread rules: immutable; {@link #get}, {@link #set} and {@link #record} are called holding
 * the {@link MetaStore} monitor.
 */
final class DatasetRoot implements CowTree.RootRef {
    private final MetaStore meta;
    private final String name;
    private final long datasetId;
    private final boolean readOnly;

    DatasetRoot(MetaStore meta, DatasetRecord rec) {
        this.meta = meta;
        this.name = rec.name();
        this.datasetId = rec.id();
        this.readOnly = rec.snapshot();
    }

    String name() {
        return name;
    }

    long datasetId() {
        return datasetId;
    }

    /** A snapshot: its tree is never changed through this reference. */
    boolean readOnly() {
        return readOnly;
    }

    /** Under the monitor: the dataset's current record; NotFound if it was destroyed. */
    DatasetRecord record() {
        DatasetRecord r = meta.dataset(name);
        if (r == null || r.id() != datasetId) {
            throw new ClonefsException.NotFound((readOnly ? "snapshot '" : "volume '") + name + "' no longer exists");
        }
        return r;
    }

    /** Under the monitor: whether a dataset of this name still exists (not necessarily this one). */
    boolean nameExists() {
        return meta.dataset(name) != null;
    }

    @Override
    public long get() {
        return record().root();
    }

    @Override
    public void set(long newRoot) {
        meta.putDataset(record().withRoot(newRoot));
    }
}
