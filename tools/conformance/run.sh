#!/usr/bin/env bash
# POSIX conformance: the pjdfstest suite (vendored in tools/conformance/pjdfstest, see its README)
# run side by side on three filesystems, test file by test file:
#   ext4     a fresh ext4 image (mkfs.ext4 -F on a file, mount -o loop)
#   bindfs   bindfs (plain FUSE passthrough, Debian's) over a directory of that ext4 image, mounted
#            the way clonefs mounts: allow_other and default_permissions
#   clonefs  a volume of a pool mounted by this checkout's daemon (`bin/clonefs mount`: allow_other,
#            default_permissions, its default writeback cache)
# The three run at once, each CONFORMANCE_JOBS (4) test files at a time, every test file in a
# directory of its own (most of the suite's time is its sleeps before time checks); prints per
# filesystem the assertions passed and failed, and the test files where clonefs fails assertions
# ext4 passes. With CONFORMANCE_REPORT (default RELIABILITY.md; empty: print only) rewrites the
# section between <!-- conformance:begin ... --> and <!-- conformance:end --> of that file.
# Per-assertion results stay in CONFORMANCE_OUT (default /var/tmp/clonefs-conformance): FS.tap (the
# raw output of each test file), FS.failed (one line per failed assertion), summary.txt.
#
# The suite's conf takes the filesystem type from df; here it is set to EXT4 for all three
# (PJDFSTEST_FS) so that all three run the same assertions (otherwise a FUSE mount would skip
# rename's ctime checks, which only "EXT4", "UFS" and "ZFS" get).
#
#   tools/conformance/run.sh [TEST_DIR...]      (make conformance; TEST_DIR e.g. link, rename: a subset)
# Needs root, a C compiler, bindfs, mkfs.ext4, openssl (the suite's name generator); builds clonefs
# when the jar is missing. Environment: CLONEFS_JAR, CONFORMANCE_DIR (work directory's parent,
# /var/tmp), CONFORMANCE_TIMEOUT (seconds per test file, 3600), CONFORMANCE_JOBS (4).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
report=${CONFORMANCE_REPORT-$root/RELIABILITY.md}
out=${CONFORMANCE_OUT:-/var/tmp/clonefs-conformance}
per_file_timeout=${CONFORMANCE_TIMEOUT:-3600}
jobs=${CONFORMANCE_JOBS:-4}
clonefs=$root/bin/clonefs
fss=(ext4 bindfs clonefs)

die() { echo "conformance: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (mounts; the suite switches users)"
for c in cc bindfs mkfs.ext4 losetup openssl timeout; do
    command -v "$c" >/dev/null || die "$c is not installed (make deps)"
done
jar=${CLONEFS_JAR:-$root/cli/target/clonefs.jar}
if [[ ! -f $jar ]]; then
    echo "== building clonefs (make build)"
    make -C "$root" --no-print-directory build
fi
export CLONEFS_JAR=$jar

work=$(mktemp -d "${CONFORMANCE_DIR:-/var/tmp}/clonefs-conformance.XXXXXX")
suite=$work/suite
img=$work/ext4.img
ext4=$work/ext4
bindfs_mnt=$work/bindfs
pool=$work/pool
cmnt=$work/mnt
export CLONEFS_POOL=$pool

cleanup() {
    cd /
    if mountpoint -q "$cmnt" 2>/dev/null; then
        "$clonefs" -q umount "$cmnt" >/dev/null 2>&1 || umount -l "$cmnt" 2>/dev/null || true
    fi
    if mountpoint -q "$bindfs_mnt" 2>/dev/null; then
        fusermount -u "$bindfs_mnt" 2>/dev/null || umount -l "$bindfs_mnt" 2>/dev/null || true
    fi
    if mountpoint -q "$ext4" 2>/dev/null; then
        umount "$ext4" 2>/dev/null || umount -l "$ext4" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
# a signal (the session or CI ending) exits through the EXIT trap too: no mount is left behind
trap 'exit 130' INT TERM HUP

# the suite: the helper built from source next to a copy of the tests (the tests find it there)
mkdir -p "$suite" "$ext4" "$bindfs_mnt" "$cmnt"
make -s -C "$root/tools/conformance" OUT="$suite" "$suite/pjdfstest" >/dev/null
cp -r "$root/tools/conformance/pjdfstest/tests" "$suite/tests"
# the filesystem type from PJDFSTEST_FS instead of df (see above)
sed -i 's/^\tfs=`df -PT \. | tail -1 | awk .{print toupper(\$2)}.`$/\tfs=${PJDFSTEST_FS:-`df -PT . | tail -1 | awk '"'"'{print toupper($2)}'"'"'`}/' \
    "$suite/tests/conf"
grep -q PJDFSTEST_FS "$suite/tests/conf" || die "could not patch the suite's conf for PJDFSTEST_FS"
export PJDFSTEST_FS=EXT4

# ext4 on a loop device; bindfs over a directory of it; a clonefs volume
truncate -s 2G "$img"
mkfs.ext4 -q -F "$img"
mount -o loop "$img" "$ext4"
mkdir "$ext4/run" "$ext4/bindfs-src"
bindfs -o allow_other,default_permissions "$ext4/bindfs-src" "$bindfs_mnt"
"$clonefs" -q init "$pool" >/dev/null
"$clonefs" -q mount "$pool" "$cmnt" >/dev/null
"$clonefs" -q create v >/dev/null
declare -A dir=([ext4]=$ext4/run [bindfs]=$bindfs_mnt [clonefs]=$cmnt/v)
for fs in "${fss[@]}"; do
    chmod 0755 "${dir[$fs]}"
done
findmnt -no FSTYPE,OPTIONS "$bindfs_mnt" | sed 's/^/bindfs mount: /'
findmnt -no FSTYPE,OPTIONS "$cmnt" | sed 's/^/clonefs mount: /'

rm -rf "$out"
mkdir -p "$out"
declare -A pass fail files notrun
for fs in "${fss[@]}"; do
    pass[$fs]=0 fail[$fs]=0 files[$fs]=0 notrun[$fs]=0
    : > "$out/$fs.tap"
    : > "$out/$fs.failed"
done

# counts one test file's TAP output ($1) into pass/fail of $2 and lists its failures; a test file
# that died or timed out fails every planned assertion it did not print
count() {
    local tap=$1 fs=$2 t=$3 res
    res=$(awk -v t="$t" -v failed="$out/$fs.failed" '
        /^1\.\.[0-9]+/ { plan = substr($0, 4) + 0 }
        /^ok [0-9]+/ { ok++ }
        /^not ok [0-9]+/ { if ($0 ~ /# TODO/) { ok++ } else { bad++; print t " " $0 >> failed } }
        END { seen = ok + bad; if (plan > seen) { print t " not ok - " plan - seen " planned assertions not run (died or timed out)" >> failed
                                                   notrun = plan - seen }
              if (plan == 0 && seen == 0) { print t " not ok - no plan, no output" >> failed; notrun = 1 }
              print ok + 0, bad + 0, notrun + 0 }' "$tap")
    read -r p f n <<< "$res"
    pass[$fs]=$((pass[$fs] + p))
    fail[$fs]=$((fail[$fs] + f))
    notrun[$fs]=$((notrun[$fs] + n))
    files[$fs]=$((files[$fs] + 1))
}

if (($# > 0)); then
    tests=()
    for d in "$@"; do
        tests+=("$suite"/tests/"$d"/*.t)
    done
else
    tests=("$suite"/tests/*/*.t)
fi
# the test files with the most assertions first (chown/00.t and rename/09.t, 10.t take most of the time)
mapfile -t tests < <(for t in "${tests[@]}"; do
    n=$(sed -n 's/^echo "1\.\.\([0-9]*\)".*/\1/p' "$t" | head -1)
    printf '%s %s\n' "${n:-0}" "$t" # a plan not written as a number (e.g. 1..${n}) sorts last
done | sort -k1,1nr -k2 | awk '{print $2}')
echo "== pjdfstest $(sed -n 's/^Upstream commit: //p' "$root/tools/conformance/README.md"): ${#tests[@]} test files on ${fss[*]}, $jobs at a time on each"
# one test file on one filesystem, in a directory of its own (tests check their directory's times)
one() { # fs test
    local fs=$1 t=$2 name d
    name=${t#"$suite"/tests/}
    d=${dir[$fs]}/${name//\//_}
    mkdir -m 0755 "$d"
    mkdir -p "$work/tap/$fs/${name%/*}"
    (cd "$d" && timeout -k 10 "$per_file_timeout" sh "$t" > "$work/tap/$fs/$name" 2>/dev/null) || true
}
start=$SECONDS
pids=()
for fs in "${fss[@]}"; do
    (
        running=0
        for t in "${tests[@]}"; do
            if ((running >= jobs)); then
                wait -n || true
                running=$((running - 1))
            fi
            one "$fs" "$t" &
            running=$((running + 1))
        done
        wait
    ) &
    pids+=($!)
done
wait "${pids[@]}"
elapsed=$((SECONDS - start))
for t in "${tests[@]}"; do
    name=${t#"$suite"/tests/}
    line=$name
    for fs in "${fss[@]}"; do
        tap=$work/tap/$fs/$name
        { echo "# $name"; cat "$tap"; } >> "$out/$fs.tap"
        before=${fail[$fs]}
        count "$tap" "$fs" "$name"
        line+="  $fs:$((fail[$fs] - before))"
    done
    echo "$line"
done

# test files and assertion numbers where clonefs fails and ext4 does not
only_clonefs=$(awk 'FILENAME == ARGV[1] { base[$1 " " $4] = 1; next } !(($1 " " $4) in base) { print }' \
    "$out/ext4.failed" "$out/clonefs.failed" | sed 's/ not ok \([0-9]*\)/ #\1/')
only_ext4=$(awk 'FILENAME == ARGV[1] { base[$1 " " $4] = 1; next } !(($1 " " $4) in base) { print }' \
    "$out/clonefs.failed" "$out/ext4.failed" | sed 's/ not ok \([0-9]*\)/ #\1/')
{
    printf '%-8s %7s %7s %7s %8s\n' fs files passed failed "not run"
    for fs in "${fss[@]}"; do
        printf '%-8s %7d %7d %7d %8d\n' "$fs" "${files[$fs]}" "${pass[$fs]}" "${fail[$fs]}" "${notrun[$fs]}"
    done
    echo "failed on clonefs, passed on ext4: $(grep -c . <<< "$only_clonefs" || true)"
    [[ -z $only_clonefs ]] || sed 's/^/  /' <<< "$only_clonefs"
    echo "failed on ext4, passed on clonefs: $(grep -c . <<< "$only_ext4" || true)"
    [[ -z $only_ext4 ]] || sed 's/^/  /' <<< "$only_ext4"
} > "$out/summary.txt"
echo "== totals (${elapsed} s; logs in $out)"
cat "$out/summary.txt"

if [[ -n $report && $# == 0 ]]; then
    section=$work/section.md
    {
        echo "<!-- conformance:begin (written by make conformance) -->"
        echo "pjdfstest $(sed -n 's/^Upstream commit: //p' "$root/tools/conformance/README.md"), all ${#tests[@]} test files,"
        echo "one run of \`make conformance\` ($(date -u +%Y-%m-%d), kernel $(uname -r), ${elapsed} s for the three):"
        echo
        echo "| filesystem | test files | assertions passed | failed | not run (test file timed out, CONFORMANCE_TIMEOUT=${per_file_timeout} s) |"
        echo "|---|---|---|---|---|"
        for fs in "${fss[@]}"; do
            echo "| $fs | ${files[$fs]} | ${pass[$fs]} | ${fail[$fs]} | ${notrun[$fs]} |"
        done
        echo
        echo "Assertions that fail on clonefs and pass on ext4 (test file, number, what it tried):"
        echo
        echo '```'
        # the suite's random names (pjdfstest_ and 32 hex digits) shortened to N, so lines fit
        if [[ -n $only_clonefs ]]; then sed 's/pjdfstest_[0-9a-f]\{32\}/N/g' <<< "$only_clonefs" | cut -c 1-200
        else echo "(none)"; fi
        echo '```'
        echo "<!-- conformance:end -->"
    } > "$section"
    python3 - "$report" "$section" <<'EOF'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
pattern = re.compile(r"<!-- conformance:begin.*?<!-- conformance:end -->\n", re.S)
if pattern.search(text):
    text = pattern.sub(lambda m: section, text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
EOF
    echo "== wrote the conformance section of $report"
fi
