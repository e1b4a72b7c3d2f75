package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.Errno;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * One operation of a randomized run, fully described by its fields so that the model and the
 * engine can each apply it, and a failing run can print it.
 *
 * @param volume   the volume (or snapshot) the op works on; for CLONE the new volume; for DESTROY
 *                 the name destroyed
 * @param path     the file path inside the volume; for SNAPSHOT the new and for CLONE the source
 *                 snapshot ({@code volume@snap})
 * @param path2    the second path (LINK and RENAME destination) or the SYMLINK target
 * @param offset   WRITE offset, TRUNCATE size or MKNOD device number
 * @param length   WRITE length
 * @param dataSeed seed of the bytes a WRITE writes ({@link #data})
 * @param mode     permission bits for CREATE, MKDIR and CHMOD; type and permission bits for MKNOD
 * @param flag     DESTROY: recursive
 */
record Op(Kind kind, String volume, String path, String path2, long offset, int length, long dataSeed,
          int mode, boolean flag) {

    enum Kind {
        CREATE_VOLUME, SNAPSHOT, CLONE, DESTROY, REOPEN,
        CREATE, MKDIR, SYMLINK, MKNOD, WRITE, TRUNCATE, CHMOD, UNLINK, RMDIR, LINK, RENAME
    }

    static Op of(Kind kind, String volume) {
        return new Op(kind, volume, null, null, 0, 0, 0, 0, false);
    }

    static Op file(Kind kind, String volume, String path) {
        return new Op(kind, volume, path, null, 0, 0, 0, 0, false);
    }

    Op withPath2(String p) {
        return new Op(kind, volume, path, p, offset, length, dataSeed, mode, flag);
    }

    Op withMode(int m) {
        return new Op(kind, volume, path, path2, offset, length, dataSeed, m, flag);
    }

    Op withFlag(boolean f) {
        return new Op(kind, volume, path, path2, offset, length, dataSeed, mode, f);
    }

    Op withWrite(long off, int len, long seed) {
        return new Op(kind, volume, path, path2, off, len, seed, mode, flag);
    }

    boolean isDatasetOp() {
        return kind.ordinal() <= Kind.REOPEN.ordinal();
    }

    /** The bytes a WRITE writes: deterministic, and never all zeros, so holes are told apart. */
    static byte[] data(long seed, int length) {
        byte[] b = new byte[length];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (1 + r.nextInt(255));
        }
        return b;
    }

    /**
     * Applies this op to the engine. Returns null on success or the errno of the
     * {@link ClonefsException} it failed with; any other exception propagates. REOPEN is the
     * caller's business.
     */
    Errno applyTo(Engine engine) {
        try {
            run(engine);
            return null;
        } catch (ClonefsException e) {
            return e.errno();
        }
    }

    private void run(Engine engine) {
        switch (kind) {
            case CREATE_VOLUME -> engine.createVolume(volume);
            case SNAPSHOT -> engine.snapshot(volume, path.substring(path.indexOf('@') + 1));
            case CLONE -> engine.cloneVolume(path, volume);
            case DESTROY -> engine.destroy(volume, flag);
            case REOPEN -> {
            }
            default -> runFile(Names.isSnapshotName(volume) ? engine.snapshotFs(volume) : engine.volume(volume));
        }
    }

    private void runFile(VolumeFs fs) {
        String name = Model.nameOf(path);
        switch (kind) {
            case CREATE -> fs.create(fs.resolve(Model.parentOf(path)), name, mode, 1000, 1000);
            case MKDIR -> fs.mkdir(fs.resolve(Model.parentOf(path)), name, mode, 1000, 1000);
            case SYMLINK -> fs.symlink(fs.resolve(Model.parentOf(path)), name, path2, 1000, 1000);
            case MKNOD -> {
                InodeAttr a = fs.mknod(fs.resolve(Model.parentOf(path)), name, mode, offset, 1000, 1000);
                if (a.mode() != mode || a.rdev() != (FileType.ofMode(mode).device() ? offset : 0) || a.size() != 0) {
                    throw new AssertionError("mknod returned mode 0" + Integer.toOctalString(a.mode()) + " rdev " + a.rdev()
                            + ": " + this);
                }
            }
            case WRITE -> {
                int n = fs.write(fs.resolve(path), offset, ByteBuffer.wrap(data(dataSeed, length)));
                if (n != length) {
                    throw new AssertionError("write returned " + n + ", wrote " + length + " bytes: " + this);
                }
            }
            case TRUNCATE -> {
                InodeAttr a = fs.truncate(fs.resolve(path), offset);
                if (a.size() != offset) {
                    throw new AssertionError("truncate returned size " + a.size() + ": " + this);
                }
            }
            case CHMOD -> fs.chmod(fs.resolve(path), mode);
            case UNLINK -> fs.unlink(fs.resolve(Model.parentOf(path)), name);
            case RMDIR -> fs.rmdir(fs.resolve(Model.parentOf(path)), name);
            case LINK -> fs.link(fs.resolve(path), fs.resolve(Model.parentOf(path2)), Model.nameOf(path2));
            case RENAME -> fs.rename(fs.resolve(Model.parentOf(path)), name,
                    fs.resolve(Model.parentOf(path2)), Model.nameOf(path2));
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(kind.toString()).append(' ').append(volume);
        if (path != null) {
            sb.append(" '").append(abbrev(path)).append('\'');
        }
        if (path2 != null) {
            sb.append(" -> '").append(abbrev(path2)).append('\'');
        }
        switch (kind) {
            case WRITE -> sb.append(" off=").append(offset).append(" len=").append(length);
            case TRUNCATE -> sb.append(" size=").append(offset);
            case CREATE, MKDIR, CHMOD -> sb.append(" mode=0").append(Integer.toOctalString(mode));
            case MKNOD -> sb.append(" mode=0").append(Integer.toOctalString(mode)).append(" rdev=").append(offset);
            case DESTROY -> sb.append(flag ? " recursive" : "");
            default -> {
            }
        }
        return sb.toString();
    }

    private static String abbrev(String s) {
        return s.length() > 60 ? s.substring(0, 30) + "...(" + s.length() + " chars)" : s;
    }
}
