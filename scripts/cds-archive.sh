#!/usr/bin/env bash
# Makes the class-data-sharing archives of a clonefs jar (Java's AppCDS, static archives), next to
# it (cli/target/clonefs.jar: cli/target/clonefs.jsa and cli/target/clonefs-quick.jsa), each holding
# the JDK's and the jar's classes that a training run loaded (io.clonefs.cli.CdsTraining, against a
# control API it serves itself; no mount, no root):
#   clonefs.jsa         help, version, usage errors, list, create, snapshot, clone, destroy, space
#                       through picocli: what every other command maps
#   clonefs-quick.jsa   the fast path of list, snapshot, clone, destroy and pg branch alone (no
#                       picocli, no Jackson): half the size, and the JVM maps and relocates a
#                       whole archive at start, so these commands start sooner with it than with
#                       the big one
# A short command then maps the classes instead of reading, parsing and verifying them. The
# launchers (bin/clonefs and the one `make install` writes) use an archive when it is newer than the
# jar and than the JDK's lib/modules; the JVM itself ignores (silently, with -Xlog:cds*=off) an
# archive made from another jar or JDK build, and then starts without any archive.
#   scripts/cds-archive.sh JAR      (make build runs it; make install runs it on the installed jar)
# JAVA_HOME or JAVA choose the java (the one the launcher will run: an archive fits one JDK build).
# A jar whose training knows no --quick (an older build) gets the big archive only.
set -euo pipefail
if [[ $# -ne 1 || ! -f $1 ]]; then
    echo "usage: cds-archive.sh JAR (an existing clonefs.jar)" >&2
    exit 2
fi
jar=$(readlink -f "$1")
java=${JAVA:-java}
if [[ -n ${JAVA_HOME:-} && -z ${JAVA:-} ]]; then java="$JAVA_HOME/bin/java"; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/clonefs-cds.XXXXXX")
trap 'rm -rf "$work"' EXIT
opts=(--add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
      -XX:TieredStopAtLevel=1 -XX:+UseSerialGC)

# archive NAME [TRAINING ARGS...]: 1. the training run, listing the classes it loads; 2. the archive
# of those classes. Written under another name and renamed: a launcher never maps half an archive.
archive() {
    local name=$1; shift
    local jsa="${jar%/*}/$name.jsa"
    if ! "$java" -XX:DumpLoadedClassList="$work/$name.lst" "${opts[@]}" \
            -cp "$jar" io.clonefs.cli.CdsTraining "$@" "$work/training-$name" >"$work/$name.log" 2>&1 \
        || ! "$java" -Xshare:dump -XX:SharedClassListFile="$work/$name.lst" -XX:SharedArchiveFile="$work/$name.jsa" \
            "${opts[@]}" -cp "$jar" >>"$work/$name.log" 2>&1 \
        || [[ ! -s $work/$name.jsa ]]; then
        return 1
    fi
    mv -f "$work/$name.jsa" "$jsa.tmp"
    chmod 0644 "$jsa.tmp"
    mv -f "$jsa.tmp" "$jsa"
    echo "class-data archive $jsa ($(( $(stat -c %s "$jsa") / 1024 / 1024 )) MiB)"
}

rm -f "${jar%.jar}-quick.jsa" # made again below, for this jar (or not at all)
if ! archive "$(basename "${jar%.jar}")"; then
    echo "cds-archive: the training run or the dump failed; no archive for $jar (clonefs works without one, only starts slower):" >&2
    tail -20 "$work/$(basename "${jar%.jar}").log" >&2
    exit 1
fi
if ! archive "$(basename "${jar%.jar}")-quick" --quick; then
    echo "cds-archive: no quick archive for $jar (the fast-path commands map the big one):" >&2
    tail -5 "$work/$(basename "${jar%.jar}")-quick.log" >&2
fi
