#!/usr/bin/env bash
# A masking pipeline: a masked copy of the source made by `clonefs pg mask` with masking.rules
# (verified: no sampled original value in any of its files), and branches of it handed out. The
# original values are reachable from none of them. See masking.md.
#   CLONEFS_POOL  the pool whose daemon runs the source (clonefs mount)
#   SOURCE        the source server (default: prod)
#   MASKED        the masked server pg mask makes (default: $SOURCE-masked)
#   SHARE         the branch handed out (default: $SOURCE-share)
#   KEEP          1: leave the branches and the snapshot (default: destroy them at the end)
#   CLONEFS       the clonefs command (default: clonefs)
set -euo pipefail
: "${CLONEFS_POOL:?set CLONEFS_POOL to the pool whose daemon runs the source}"
SOURCE=${SOURCE:-prod}
MASKED=${MASKED:-$SOURCE-masked}
SHARE=${SHARE:-$SOURCE-share}
KEEP=${KEEP:-0}
here=$(cd "$(dirname "$0")" && pwd)
clonefs() { "${CLONEFS:-clonefs}" "$@"; }
export PSQLRC=/dev/null

SRC_URI=$(clonefs pg list --json | jq -r --arg n "$SOURCE" '.[] | select(.name == $n) | .uri')
[[ -n $SRC_URI ]] || { echo "no PostgreSQL server '$SOURCE' in pool $CLONEFS_POOL" >&2; exit 1; }

echo "== 0. the source's personal data (a demo table, created on the source if missing)"
psql "$SRC_URI" -q -c "CREATE TABLE IF NOT EXISTS customers (
    id bigint PRIMARY KEY, full_name text NOT NULL, email text NOT NULL UNIQUE,
    phone text, birth_date date, iban text);
INSERT INTO customers
SELECT g, f.n || ' ' || l.n,
       lower(f.n) || '.' || lower(l.n) || g || '@' || (ARRAY['gmail.com','web.de','outlook.com'])[1 + g % 3],
       '+49 151 ' || lpad((g * 7919 % 10000000)::text, 7, '0'),
       date '1950-01-01' + (g * 37 % 18000)::int,
       'DE' || lpad((g * 104729 % 100)::text, 2, '0') || lpad((g * 15485863 % 1000000000)::text, 18, '0')
FROM generate_series(1::bigint, 5000) g,
     LATERAL (SELECT (ARRAY['Anna','Lukas','Mia','Elias','Emma','Noah','Sofia','Leon'])[1 + g % 8] AS n) f,
     LATERAL (SELECT (ARRAY['Schmidt','Müller','Schneider','Fischer','Weber','Meyer','Wagner'])[1 + g % 7] AS n) l
ON CONFLICT DO NOTHING;"
psql "$SRC_URI" -c "SELECT id, full_name, email, phone, birth_date, iban FROM customers ORDER BY id LIMIT 3"

echo "== 1. mask a copy of the source ($here/masking.rules): branch, rules, rewrite, no WAL, verify, mark"
clonefs pg mask "$SOURCE" --rules "$here/masking.rules" --into "$MASKED"
SNAP=$(clonefs pg list --json | jq -r --arg m "$MASKED" '.[] | select(.name == $m) | .masked.snapshot')

echo "== 2. branch the masked snapshot for sharing (at now: the masked server's newest snapshot)"
SHARE_URI=$(clonefs pg branch "$MASKED" "$SHARE" --at now --ttl 7d)
echo "$SHARE: $SHARE_URI"
clonefs pg list
clonefs pg list --json | jq -r --arg m "$MASKED" --arg s "$SHARE" \
    '.[] | select(.name == $m or .name == $s) | "\(.name): branch of \(.source), snapshot \(.snapshot), \(.state), masked: \(.masked.snapshot) verified \(.masked.verified)"'

echo "== 3. the original values are not reachable from the shared branch"
psql "$SHARE_URI" -At -c "SELECT 'customers on the shared branch: ' || count(*)
  || ', masked emails: ' || count(*) FILTER (WHERE email LIKE 'customer%@example.invalid')
  || ', other emails: ' || count(*) FILTER (WHERE email NOT LIKE 'customer%@example.invalid') FROM customers"
psql "$SHARE_URI" -c "SELECT id, full_name, email FROM customers ORDER BY id LIMIT 3"
# a sample of original values, looked up on the source, searched for in every file of the shared branch
mapfile -t ORIGINALS < <(psql "$SRC_URI" -At -c "SELECT email FROM customers ORDER BY id LIMIT 20")
psql "$SHARE_URI" -At -c "SELECT 'of 20 original emails, found by SQL on the shared branch: ' || count(*)
  FROM customers WHERE email IN ($(printf "'%s'," "${ORIGINALS[@]}" | sed 's/,$//'))"
DATA_DIR=$(clonefs pg list --json | jq -r --arg s "$SHARE" '.[] | select(.name == $s) | .dataDir')
originals=$(mktemp)
trap 'rm -f "$originals"' EXIT
printf '%s\n' "${ORIGINALS[@]}" > "$originals"
hits=$(grep -rlaF -f "$originals" "$DATA_DIR" | wc -l || true)
echo "of 20 original emails, files of the shared branch's data directory holding any: $hits"
[[ $hits -eq 0 ]] || { grep -rlaF -f "$originals" "$DATA_DIR" >&2; exit 1; }

if [[ $KEEP == 1 ]]; then
    echo "== kept: $MASKED (snapshot $SNAP) and $SHARE (expires in 7 days)"
    exit 0
fi
echo "== 4. done: destroy the shared branch, then the masked server (its masked snapshot goes with it)"
clonefs pg destroy "$SHARE"
clonefs pg destroy "$MASKED"
