#!/usr/bin/env bash
# Adds another justus build to a results folder of ../shared/peers/sidebyside.sh, run the same
# way as the script runs justus (same settings, same loadgen, server on CPU 0, loadgen on CPU 1),
# so a before/after pair sits in one table with calib-server and socketio-ref:
#
#   JUSTUS_BIN=target/release/justus ../shared/peers/sidebyside.sh /tmp/peers-work/run1
#   LABEL=before JUSTUS_BIN=/path/to/old/justus scripts/peers-extra.sh /tmp/peers-work/run1
#   python3 ../shared/peers/summarize.py /tmp/peers-work/run1
#
# SHAPES, RATES, DUR and SYNCS ("full" by default) as in sidebyside.sh.
set -euo pipefail
OUT=${1:?results folder of a sidebyside.sh run}
JB=$(realpath "${JUSTUS_BIN:?set JUSTUS_BIN to a release justus binary}")
LABEL=${LABEL:?a label for this build, e.g. before}
WORK=${PEERS_WORK:-/tmp/peers-work}
LG="$WORK/loadgen-target/release/loadgen"
[ -x "$LG" ] || { echo "run sidebyside.sh first (it builds loadgen into $LG)" >&2; exit 1; }
DUR=${DUR:-10}
SHAPES=${SHAPES:-"10x100 100x10"}
RATES=${RATES:-"50 100 300"}
wait_port() { for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
for sync in ${SYNCS:-full}; do
  d="$WORK/$LABEL-$sync"; rm -rf "$d"; mkdir -p "$d"
  JUSTUS_DATA_DIR=$d JUSTUS_BIND=127.0.0.1:8088 SQLITE_SYNCHRONOUS=$sync JUSTUS_LOG=warn \
    REGISTER_PER_IP_PER_HOUR=100000 GATEWAY_MAX_SOCKETS_PER_USER=100 GATEWAY_REQUESTS_PER_SECOND=100000 \
    ROOM_MAX_MEMBERS=100000 taskset -c 0 "$JB" > "$OUT/$LABEL-$sync-server.log" 2>&1 & JP=$!
  trap 'kill $JP 2>/dev/null || true' EXIT
  wait_port 8088
  for shape in $SHAPES; do
    rooms=${shape%x*} members=${shape#*x}
    for rate in $RATES; do
      label="$LABEL-$sync-$shape-r$rate"
      timeout 300 taskset -c 1 "$LG" run --proto justus --url http://127.0.0.1:8088 --server-pid "$JP" --label "$label" -d "$DUR" \
        -c $((rooms * members)) -r "$rooms" -s "$rooms" --rate "$rate" --conns-per-user 10 \
        > "$OUT/$label.json" 2> "$OUT/$label.log" || echo "run $label failed, see $OUT/$label.log" >&2
    done
  done
  kill "$JP"; wait "$JP" 2>/dev/null || true
done
