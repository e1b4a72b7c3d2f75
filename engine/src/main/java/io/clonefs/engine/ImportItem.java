package io.clonefs.engine;

import io.clonefs.block.RemoteRef;

/**
 * One tree item of a snapshot being imported (see {@link Engine#importSnapshot}): the key and value
 * exactly as {@link Engine#exportSnapshot} gave them, except that an extent item (key type
 * {@code Keys.EXTENT}) carries {@code ref}, where its block lives remotely, and its value is ignored.
 */
public record ImportItem(byte[] key, byte[] value, RemoteRef ref) {
}
