package io.clonefs.fuse.ops;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import io.clonefs.engine.InodeId;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Open files by FUSE file handle ({@code fi.fh}): filled on open/create, emptied on release, read
 * without a lock by read, write, fgetattr, ftruncate and fsync. Handles are small
 * integers (slot indexes) reused after release, so a lookup is one array read.
 *
 * <p>Thread-safe: lookups read an {@link AtomicReferenceArray}; add and remove take this
 * object's monitor (once per open and per close, never per read or write).
 */
final class HandleTable {
    /** One open file: its dataset and inode. */
    record OpenFile(Namespace.Dataset dataset, InodeId ino) {
    }

    private volatile AtomicReferenceArray<OpenFile> slots = new AtomicReferenceArray<>(256);
    private int[] free = new int[64];
    private int freeCount;
    private int next = 1; // handle 0 is never used: libfuse passes 0 when there is no handle
    private int open;

    /** Registers an open file and returns its handle. */
    synchronized long add(OpenFile file) {
        int h;
        if (freeCount > 0) {
            h = free[--freeCount];
        } else {
            h = next++;
            AtomicReferenceArray<OpenFile> s = slots;
            if (h >= s.length()) {
                AtomicReferenceArray<OpenFile> grown = new AtomicReferenceArray<>(s.length() * 2);
                for (int i = 0; i < s.length(); i++) {
                    grown.set(i, s.get(i));
                }
                slots = grown;
            }
        }
        slots.set(h, file);
        open++;
        return h;
    }

    /** The open file of a handle; EBADF if there is none. */
    OpenFile get(long fh) {
        AtomicReferenceArray<OpenFile> s = slots;
        OpenFile f = fh > 0 && fh < s.length() ? s.get((int) fh) : null;
        if (f == null) {
            throw new ClonefsException(Errno.EBADF, "no open file with handle " + fh);
        }
        return f;
    }

    /** Forgets a handle and returns its open file; EBADF if there is none. */
    synchronized OpenFile remove(long fh) {
        OpenFile f = get(fh);
        slots.set((int) fh, null);
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = (int) fh;
        open--;
        return f;
    }

    /** Number of open handles. */
    synchronized int size() {
        return open;
    }
}
