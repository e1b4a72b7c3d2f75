#!/usr/bin/env bash
# Installs the self-contained clonefs jar and a launcher: PREFIX/lib/clonefs/clonefs.jar and
# PREFIX/bin/clonefs. Usage: install.sh PREFIX JAR   (DESTDIR is honoured for packaging.)
set -euo pipefail
prefix=${1:-/usr/local}
jar=${2:-cli/target/clonefs.jar}
if [[ ! -f $jar ]]; then
    echo "install: $jar not found; run 'make build' first (the cli module builds it)" >&2
    exit 1
fi
lib="${DESTDIR:-}$prefix/lib/clonefs"
bin="${DESTDIR:-}$prefix/bin"
install -d "$lib" "$bin"
install -m 0644 "$jar" "$lib/clonefs.jar"
tmp=$(mktemp)
cat > "$tmp" <<LAUNCHER
#!/bin/sh
# clonefs launcher (installed by make install). lmdbjava needs these --add-opens on Java 17.
exec "\${JAVA:-java}" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \\
    \${CLONEFS_JAVA_OPTS:-} -jar "$prefix/lib/clonefs/clonefs.jar" "\$@"
LAUNCHER
install -m 0755 "$tmp" "$bin/clonefs"
rm -f "$tmp"
echo "installed $bin/clonefs -> $lib/clonefs.jar"
