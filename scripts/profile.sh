#!/usr/bin/env bash
# Profiles the server under one justus-bench scenario with valgrind (docs/performance.md).
#
#   cargo build --release -p justus-server -p justus-bench
#   scripts/profile.sh callgrind durable-sends --backend sqlite-full --senders 64 --rooms 64 --window 4 --duration 20
#   scripts/profile.sh massif idle-memory --connections 2000
#
# callgrind: counters are zeroed when the bench prints "measuring" (after provisioning, whose
# Argon2 hashes would otherwise dominate), so the output counts only the measured phase;
# read it with `callgrind_annotate --inclusive=yes $OUT/callgrind.*.out`.
# massif: heap snapshots over the whole run; `ms_print $OUT/massif.*.out`.
# Instruction counts do not depend on machine load; times under valgrind mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${1:?usage: scripts/profile.sh callgrind|massif <scenario> [args...]}"; shift
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
BENCH="${BENCH:-$target_dir/release/justus-bench}"
SERVER="${SERVER:-$target_dir/release/justus}"
OUT="${OUT:-profile-results}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
wrapper="$OUT/justus-under-$tool"
case "$tool" in
  callgrind) opts="--tool=callgrind --callgrind-out-file=$OUT/callgrind.%p.out" ;;
  massif) opts="--tool=massif --depth=40 --threshold=0.5 --massif-out-file=$OUT/massif.%p.out" ;;
  *) echo "unknown tool $tool (callgrind or massif)" >&2; exit 2 ;;
esac
# The bench starts `--server-bin` itself; a name not starting with justus-bench runs as is.
printf '#!/bin/sh\nexec valgrind %s %q\n' "$opts" "$SERVER" > "$wrapper"
chmod +x "$wrapper"
scenario="$1"; shift
"$BENCH" "$scenario" --spawn --server-bin "$wrapper" --cpu 1 "$@" \
  > "$OUT/$scenario.json" 2> >(tee "$OUT/$scenario.err" >&2) &
bench=$!
if [ "$tool" = callgrind ]; then
  while kill -0 "$bench" 2>/dev/null; do
    if grep -q "measuring" "$OUT/$scenario.err" 2>/dev/null; then
      callgrind_control -z >/dev/null && echo "[profile] counters zeroed: measuring" >&2
      break
    fi
    sleep 0.2
  done
fi
wait "$bench"
echo "[profile] results in $OUT" >&2
