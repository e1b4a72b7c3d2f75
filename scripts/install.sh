#!/usr/bin/env bash
# Installs the self-contained clonefs jar and a launcher: PREFIX/lib/clonefs/clonefs.jar and
# PREFIX/bin/clonefs (DESTDIR is honoured for packaging), and the jar's class-data archive
# PREFIX/lib/clonefs/clonefs.jsa and clonefs-quick.jsa (scripts/cds-archive.sh, made for the installed jar with the java
# the launcher will run; not with DESTDIR, whose paths differ from the final ones: the launcher runs
# without it, only starts slower). `--uninstall` removes them.
#   install.sh PREFIX JAR          (make install PREFIX=... [SKIP_BUILD=1 JAR=...])
#   install.sh --uninstall PREFIX  (make uninstall PREFIX=...)
set -euo pipefail
if [[ ${1:-} == --uninstall ]]; then
    prefix=${2:-/usr/local}
    bin="${DESTDIR:-}$prefix/bin/clonefs"
    lib="${DESTDIR:-}$prefix/lib/clonefs"
    if [[ -f $bin ]] && ! grep -q 'clonefs launcher (installed by make install)' "$bin"; then
        echo "uninstall: $bin was not installed by make install; left alone" >&2
        exit 1
    fi
    rm -f "$bin" "$lib/clonefs.jar" "$lib/clonefs.jsa" "$lib/clonefs-quick.jsa"
    rmdir "$lib" 2>/dev/null || true
    echo "removed $bin and $lib/clonefs.jar"
    exit 0
fi
prefix=${1:-/usr/local}
jar=${2:-cli/target/clonefs.jar}
if [[ ! -f $jar ]]; then
    echo "install: $jar not found; run 'make build' first (the cli module builds it)" >&2
    exit 1
fi
lib="${DESTDIR:-}$prefix/lib/clonefs"
bin="${DESTDIR:-}$prefix/bin"
install -d "$lib" "$bin"
rm -f "$lib/clonefs.jsa" "$lib/clonefs-quick.jsa" # made again below, for this jar
install -m 0644 "$jar" "$lib/clonefs.jar"
tmp=$(mktemp)
cat > "$tmp" <<LAUNCHER
#!/bin/sh
# clonefs launcher (installed by make install). lmdbjava needs these --add-opens on Java 17.
# JAVA_HOME or JAVA choose the java; CLONEFS_JAVA_OPTS adds JVM options. Short commands start
# faster with C1 only, the serial GC and the class-data archive next to the jar (used when newer
# than the jar and the JDK; list, snapshot, clone, destroy and pg branch map the smaller one of
# their fast path); a daemon (--foreground, also what 'clonefs mount' starts) gets the full JIT.
java="\${JAVA:-java}"
if [ -n "\${JAVA_HOME:-}" ] && [ -z "\${JAVA:-}" ]; then java="\$JAVA_HOME/bin/java"; fi
jar="$prefix/lib/clonefs/clonefs.jar"
jsa="$prefix/lib/clonefs/clonefs.jsa"
quick=1
command=
sub=
skip=0
for a in "\$@"; do
    if [ "\$a" = --foreground ]; then quick=0; fi
    if [ -z "\$command" ] || { [ "\$command" = pg ] && [ -z "\$sub" ]; }; then
        if [ "\$skip" = 1 ]; then
            skip=0
        else
            case \$a in
                --pool) skip=1 ;;
                --pool=* | --json | -q | --quiet | -v | --verbose) ;;
                *) if [ -z "\$command" ]; then command=\$a; else sub=\$a; fi ;;
            esac
        fi
    fi
done
fast=
case "\$command\${sub:+ \$sub}" in
    list | snapshot | clone | destroy | "pg branch")
        if [ -f "$prefix/lib/clonefs/clonefs-quick.jsa" ]; then jsa="$prefix/lib/clonefs/clonefs-quick.jsa"; fi
        fast="-XX:CompileThresholdScaling=5 -Xms8m -XX:-UsePerfData" ;;
esac
# the main class named rather than read from the jar's manifest (-jar opens the whole jar first)
set -- -cp "\$jar" io.clonefs.cli.Main "\$@"
set -- \${CLONEFS_JAVA_OPTS:-} "\$@"
# the archive fits one jar and one JDK build: used if newer than both (the JDK's lib/modules ctime),
# and not by a daemon (it holds the client's classes, and would stand in for the JDK's own archive)
if [ "\$quick" = 1 ] && [ -f "\$jsa" ] && [ "\$jsa" -nt "\$jar" ]; then
    jdk=\$(readlink -f "\$(command -v "\$java")" 2>/dev/null || true)
    modules="\${jdk%/bin/java}/lib/modules"
    if [ ! -f "\$modules" ] || [ "\$(stat -c %Y "\$jsa")" -gt "\$(stat -c %Z "\$modules")" ]; then
        set -- -XX:SharedArchiveFile="\$jsa" -Xshare:auto '-Xlog:cds*=off' "\$@"
    fi
fi
if [ "\$quick" = 1 ]; then
    set -- -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \$fast "\$@"
else
    set -- -XX:G1PeriodicGCInterval=10000 "\$@"   # an idle daemon gives back the heap it no longer uses
fi
exec "\$java" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED "\$@"
LAUNCHER
install -m 0755 "$tmp" "$bin/clonefs"
rm -f "$tmp"
echo "installed $bin/clonefs -> $lib/clonefs.jar"
if [[ -z ${DESTDIR:-} ]]; then
    "$(dirname "$0")/cds-archive.sh" "$lib/clonefs.jar" \
        || echo "install: no class-data archive; clonefs works without it, only starts slower" >&2
fi
