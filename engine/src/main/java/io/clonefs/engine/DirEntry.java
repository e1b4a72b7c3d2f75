package io.clonefs.engine;

/** One entry of a directory listing ("." and ".." are not stored and not listed). */
public record DirEntry(String name, InodeId ino, FileType type) {
}
