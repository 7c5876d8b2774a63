#!/usr/bin/env bash
# The measurement runs behind docs/performance.md: every scenario RUNS times (default 3), server
# pinned to CPU 0 (the release `justus` via taskset), bench pinned to CPU 1. One JSON object per
# run is appended to $OUT/<scenario>.jsonl with the `uptime` load at its start.
#
#   cargo build --release -p justus-server -p justus-bench
#   scripts/bench.sh [scenario...]      # default: all single-instance scenarios
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
BENCH="${BENCH:-$target_dir/release/justus-bench}"
SERVER="${SERVER:-$target_dir/release/justus}"
RUNS="${RUNS:-3}"
OUT="${OUT:-bench-results}"
mkdir -p "$OUT"
common=(--spawn --server-bin "$SERVER" --server-cpu 0 --cpu 1)

run() {
  local name="$1"; shift
  for i in $(seq 1 "$RUNS"); do
    local load; load="$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "== $name run $i (load $load): justus-bench $*" >&2
    "$BENCH" "$@" | sed "s/^{/{\"label\":\"$name\",\"load_at_start\":\"$load\",/" >> "$OUT/$name.jsonl"
  done
}

scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(fanout idle-memory connect-storm durable-sends history)
for s in "${scenarios[@]}"; do
  case "$s" in
    fanout)
      run fanout fanout "${common[@]}" --connections 5000 --rooms 50 --senders 50 --rate 5 \
        --duration 4 --find-saturation --max-steps 6 ;;
    fanout-half)
      # p99 at half of saturation: the search above saturated at 37.5k deliveries/s
      # (rate 7.5), so half is rate 3.75 (docs/performance.md).
      run fanout-half fanout "${common[@]}" --connections 5000 --rooms 50 --senders 50 \
        --rate "${HALF_RATE:-3.75}" --duration 8 ;;
    fanout-max)
      # Throughput ceiling: one step offered well past saturation (latency ignored).
      run fanout-max fanout "${common[@]}" --connections 5000 --rooms 50 --senders 50 --rate 40 \
        --duration 5 ;;
    idle-memory)
      run idle-memory idle-memory "${common[@]}" --connections 10000 ;;
    connect-storm)
      run connect-storm connect-storm "${common[@]}" --connections 10000 --rooms 100 ;;
    durable-sends)
      for b in sqlite-full sqlite-normal postgres; do
        run "durable-$b" durable-sends "${common[@]}" --backend "$b" --senders 64 --rooms 64 \
          --window 4 --duration 10
      done ;;
    history)
      # 10M messages appended straight to the stopped server's SQLite file (minutes, not an
      # hour through the gateway); the three rounds on one seed are the three runs.
      RUNS=1 run history history "${common[@]}" --seed bulk --messages 10000000 --rooms 10 \
        --queries 500 --rounds 3 --drop-caches ;;
    history-gateway)
      run history-gateway history "${common[@]}" --messages 100000 --rooms 10 --queries 500 ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
done
