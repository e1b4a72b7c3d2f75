#!/usr/bin/env bash
# Builds the Debian package OUTDIR/clonefs_VERSION_all.deb from a built clonefs.jar (make deb):
#   /usr/bin/clonefs                              the launcher (the one `make install` writes, for /usr)
#   /usr/lib/clonefs/clonefs.jar                  the self-contained jar
#   /usr/libexec/clonefs/cds-archive              scripts/cds-archive.sh: postinst makes the jar's
#                                                 class-data archive with it, for the installed JDK
#   /usr/libexec/clonefs/clonefs-service          helper of the unit (packaging/clonefs-service)
#   /lib/systemd/system/clonefs@.service          one pool per instance (packaging/clonefs@.service)
#   /etc/clonefs/default.conf                     conffile: the pool of clonefs@default
#   /usr/share/man/man1/clonefs.1.gz              written from the picocli model (io.clonefs.cli.ManPage)
#   /usr/share/bash-completion/completions/clonefs  `clonefs completion`
#   /usr/share/doc/clonefs/{copyright,changelog.gz,README.md}, /usr/share/lintian/overrides/clonefs
# and the maintainer scripts of packaging/debian. No debhelper: a staged tree, dpkg-deb --root-owner-group.
# VERSION: the pom's, a -SNAPSHOT one as X.Y.Z~snapshotYYYYMMDDHHMMSS of the last commit (so that
# a later build upgrades an earlier one); DEB_VERSION overrides it.
#   scripts/build-deb.sh JAR OUTDIR     prints the path of the package
set -euo pipefail
if [[ $# -ne 2 || ! -f $1 ]]; then
    echo "usage: build-deb.sh JAR OUTDIR (JAR: cli/target/clonefs.jar, built by make build)" >&2
    exit 2
fi
jar=$(readlink -f "$1")
out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
java=${JAVA:-java}

pom_version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$repo/pom.xml" | head -n 1)
if git -C "$repo" rev-parse HEAD >/dev/null 2>&1; then
    stamp=$(TZ=UTC git -C "$repo" log -1 --date=format-local:%Y%m%d%H%M%S --format=%cd)
    epoch=$(git -C "$repo" log -1 --format=%ct)
    commit=$(git -C "$repo" rev-parse --short=12 HEAD)
else
    epoch=$(date +%s)
    stamp=$(TZ=UTC date -d "@$epoch" +%Y%m%d%H%M%S)
    commit=unknown
fi
version=${DEB_VERSION:-${pom_version/-SNAPSHOT/~snapshot$stamp}}
if [[ ! $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
    echo "build-deb: '$version' is not a Debian version of a native package" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/clonefs-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
umask 022

# the launcher make install writes, for PREFIX=/usr; said to be the package's (make uninstall leaves it alone)
DESTDIR=$root "$repo/scripts/install.sh" /usr "$jar" >/dev/null
sed -i 's/(installed by make install)/(installed by the Debian package clonefs)/' "$root/usr/bin/clonefs"
install -D -m 0755 "$repo/scripts/cds-archive.sh" "$root/usr/libexec/clonefs/cds-archive"
install -D -m 0755 "$repo/packaging/clonefs-service" "$root/usr/libexec/clonefs/clonefs-service"
install -D -m 0644 "$repo/packaging/clonefs@.service" "$root/lib/systemd/system/clonefs@.service"
install -D -m 0644 "$repo/packaging/default.conf" "$root/etc/clonefs/default.conf"

run_java() {
    "$java" --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
        -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$jar" "$@"
}
install -d "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions"
run_java io.clonefs.cli.ManPage "$version" "$(date -u -d "@$epoch" +%Y-%m-%d)" > "$work/clonefs.1"
gzip -9n < "$work/clonefs.1" > "$root/usr/share/man/man1/clonefs.1.gz"
# sourced by bash-completion, not run: without the script's #! line
run_java io.clonefs.cli.Main completion | sed '1{/^#!/d}' > "$root/usr/share/bash-completion/completions/clonefs"

doc=$root/usr/share/doc/clonefs
install -d "$doc" "$root/usr/share/lintian/overrides"
install -m 0644 "$repo/packaging/debian/copyright" "$doc/copyright"
install -m 0644 "$repo/packaging/README.md" "$doc/README.md"
maintainer=$(sed -n 's/^Maintainer: //p' "$repo/packaging/debian/control.in")
cat > "$work/changelog" <<EOF
clonefs ($version) unstable; urgency=medium

  * Built from the clonefs repository at commit $commit.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$epoch")
EOF
gzip -9n < "$work/changelog" > "$doc/changelog.gz"
install -m 0644 "$repo/packaging/debian/lintian-overrides" "$root/usr/share/lintian/overrides/clonefs"

install -d -m 0755 "$root/DEBIAN"
for f in postinst prerm postrm; do
    install -m 0755 "$repo/packaging/debian/$f" "$root/DEBIAN/$f"
done
install -m 0644 "$repo/packaging/debian/conffiles" "$root/DEBIAN/conffiles"
install -m 0644 "$repo/packaging/debian/triggers" "$root/DEBIAN/triggers"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$repo/packaging/debian/control.in" > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum | grep -v ' etc/' > DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$epoch" {} +

mkdir -p "$out"
deb="$(readlink -f "$out")/clonefs_${version}_all.deb"
# the jar is compressed already: xz would spend seconds to win nothing
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$deb" >/dev/null
echo "$deb"
