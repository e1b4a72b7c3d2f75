package io.clonefs.base;

import java.util.regex.Pattern;

/**
 * A snapshot's full name, {@code <volume>@<snapshot>}, parsed and validated once: both parts are
 * dataset names ({@code [A-Za-z0-9][A-Za-z0-9_.-]{0,62}}). {@link #toString()} gives the full
 * name back.
 */
public record SnapshotName(String volume, String snapshot) {
    /** Volume and snapshot names: {@code [A-Za-z0-9][A-Za-z0-9_.-]{0,62}}. */
    public static final Pattern DATASET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    public SnapshotName {
        checkDataset("volume", volume);
        checkDataset("snapshot", snapshot);
    }

    /** Parses {@code volume@snap}; a one-line {@link ClonefsException.InvalidArgument} for anything else. */
    public static SnapshotName parse(String fullName) {
        if (fullName == null) {
            throw new ClonefsException.InvalidArgument("snapshot name is empty");
        }
        int at = fullName.indexOf('@');
        if (at < 0 || fullName.indexOf('@', at + 1) >= 0) {
            throw new ClonefsException.InvalidArgument("snapshot '" + abbreviate(fullName) + "' must be written VOLUME@SNAPSHOT");
        }
        return new SnapshotName(fullName.substring(0, at), fullName.substring(at + 1));
    }

    /** Whether {@code name} is written as a snapshot's full name (has an {@code @}); not validated. */
    public static boolean looksLikeSnapshot(String name) {
        return name != null && name.indexOf('@') >= 0;
    }

    /** The snapshot {@code snap} of this snapshot's volume. */
    public SnapshotName sibling(String snap) {
        return new SnapshotName(volume, snap);
    }

    @Override
    public String toString() {
        return volume + "@" + snapshot;
    }

    /** Checks a volume name or the snapshot part of a full name; returns it. */
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

    static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
