package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import io.clonefs.base.SnapshotName;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** Validation of volume, snapshot and file names. */
public final class Names {
    /** Volume and snapshot names: {@code [A-Za-z0-9][A-Za-z0-9_.-]{0,62}}. */
    public static final Pattern DATASET = SnapshotName.DATASET;
    public static final int MAX_FILE_NAME_BYTES = 255;

    private Names() {
    }

    /** Checks a volume name or the snapshot part of {@code volume@snap}. */
    public static String checkDataset(String kind, String name) {
        return SnapshotName.checkDataset(kind, name);
    }

    /** Splits {@code volume@snap}, validating both parts. */
    public static SnapshotName splitSnapshot(String fullName) {
        return SnapshotName.parse(fullName);
    }

    public static boolean isSnapshotName(String name) {
        return SnapshotName.looksLikeSnapshot(name);
    }

    /** Checks one file name (a single path component). */
    public static byte[] checkFileName(String name) {
        if (name == null || name.isEmpty()) {
            throw new ClonefsException.InvalidArgument("file name is empty");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new ClonefsException.InvalidArgument("'" + name + "' cannot be used as a file name");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new ClonefsException.InvalidArgument("file name contains '/' or NUL");
        }
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_FILE_NAME_BYTES) {
            throw new ClonefsException.NameTooLong("file name longer than 255 bytes");
        }
        return b;
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
