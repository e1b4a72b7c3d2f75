package io.clonefs.engine;

/**
 * Space of one volume or snapshot.
 *
 * @param referencedBytes bytes of data blocks it references
 * @param uniqueBytes     bytes of data blocks only it references (what destroying it frees)
 */
public record VolumeSpace(String name, long referencedBytes, long uniqueBytes) {
}
