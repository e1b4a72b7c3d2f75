package io.clonefs.engine;

import io.clonefs.base.ClonefsException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** Validation of volume, snapshot and file names. */
public final class Names {
    /** Volume and snapshot names: {@code [A-Za-z0-9][A-Za-z0-9_.-]{0,62}}. */
    public static final Pattern DATASET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    public static final int MAX_FILE_NAME_BYTES = 255;

    private Names() {
    }

    /** Checks a volume name or the snapshot part of {@code volume@snap}. */
    public static String checkDataset(String kind, String name) {
        if (name == null || name.isEmpty()) {
            throw new ClonefsException.InvalidArgument(kind + " name is empty");
        }
        if (name.length() > 63) {
            throw new ClonefsException.InvalidArgument(kind + " name '" + abbreviate(name) + "' is longer than 63 characters");
        }
        if (!DATASET.matcher(name).matches()) {
            throw new ClonefsException.InvalidArgument(kind + " name '" + abbreviate(name)
                    + "' is invalid: use letters, digits, '_', '.', '-', starting with a letter or digit");
        }
        return name;
    }

    /** Splits {@code volume@snap}, validating both parts. */
    public static String[] splitSnapshot(String fullName) {
        if (fullName == null) {
            throw new ClonefsException.InvalidArgument("snapshot name is empty");
        }
        int at = fullName.indexOf('@');
        if (at < 0 || fullName.indexOf('@', at + 1) >= 0) {
            throw new ClonefsException.InvalidArgument("snapshot '" + abbreviate(fullName) + "' must be written VOLUME@SNAPSHOT");
        }
        String vol = checkDataset("volume", fullName.substring(0, at));
        String snap = checkDataset("snapshot", fullName.substring(at + 1));
        return new String[] {vol, snap};
    }

    public static boolean isSnapshotName(String name) {
        return name != null && name.indexOf('@') >= 0;
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
