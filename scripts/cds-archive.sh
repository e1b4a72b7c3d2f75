#!/usr/bin/env bash
# Makes the class-data-sharing archive of a clonefs jar (Java's AppCDS, a static archive): JAR with
# .jsa for .jar (cli/target/clonefs.jsa next to cli/target/clonefs.jar), holding the JDK's and the
# jar's classes that a training run of the usual commands loaded (io.clonefs.cli.CdsTraining: help,
# list, create, snapshot, clone, destroy against a control API it serves itself; no mount, no
# root). A short command then maps them instead of reading, parsing and verifying them. The
# launchers (bin/clonefs and the one `make install` writes) use the archive when it is newer than
# the jar and than the JDK's lib/modules; the JVM itself ignores (silently, with -Xlog:cds*=off) an
# archive made from another jar or JDK build, and then starts without any archive.
#   scripts/cds-archive.sh JAR      (make build runs it; make install runs it on the installed jar)
# JAVA_HOME or JAVA choose the java (the one the launcher will run: an archive fits one JDK build).
set -euo pipefail
if [[ $# -ne 1 || ! -f $1 ]]; then
    echo "usage: cds-archive.sh JAR (an existing clonefs.jar)" >&2
    exit 2
fi
jar=$(readlink -f "$1")
java=${JAVA:-java}
if [[ -n ${JAVA_HOME:-} && -z ${JAVA:-} ]]; then java="$JAVA_HOME/bin/java"; fi
jsa="${jar%.jar}.jsa"
work=$(mktemp -d "${TMPDIR:-/tmp}/clonefs-cds.XXXXXX")
trap 'rm -rf "$work"' EXIT
opts=(--add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
      -XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
# 1. the training run, listing the classes it loads; 2. the archive of those classes. Written under
# another name and renamed: a launcher never maps half an archive.
if ! "$java" -XX:DumpLoadedClassList="$work/classes.lst" "${opts[@]}" \
        -cp "$jar" io.clonefs.cli.CdsTraining "$work/training" >"$work/log" 2>&1 \
    || ! "$java" -Xshare:dump -XX:SharedClassListFile="$work/classes.lst" -XX:SharedArchiveFile="$work/clonefs.jsa" \
        "${opts[@]}" -cp "$jar" >>"$work/log" 2>&1 \
    || [[ ! -s $work/clonefs.jsa ]]; then
    echo "cds-archive: the training run or the dump failed; no archive for $jar (clonefs works without one, only starts slower):" >&2
    tail -20 "$work/log" >&2
    exit 1
fi
mv -f "$work/clonefs.jsa" "$jsa.tmp"
chmod 0644 "$jsa.tmp"
mv -f "$jsa.tmp" "$jsa"
echo "class-data archive $jsa ($(( $(stat -c %s "$jsa") / 1024 / 1024 )) MiB)"
