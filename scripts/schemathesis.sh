#!/usr/bin/env bash
# Property-based API tests from the OpenAPI document (schemathesis, all default checks), against
# a fresh debug `justus` on a free loopback port. Exit 0 only when schemathesis reports no failure.
#
# - Installs schemathesis 4.32.5 into a venv at ${SCHEMATHESIS_VENV:-/var/tmp/justus-schemathesis}
#   (outside the clone) when it is missing.
# - Builds the debug binary (`cargo build -p justus-server`) and starts it with a temp data dir and
#   the rate limits raised (as web/e2e/run.mjs does), registers a user, and fuzzes every operation
#   of /api/openapi.json with that user's bearer token.
# - Bounded: --max-examples ${MAX_EXAMPLES:-30}, 2 workers, and a wall-clock cap (${TIME_CAP:-300}s).
# Env: SCHEMATHESIS_OUT (reports directory; default a temp dir, removed after a green run),
#      MAX_EXAMPLES, TIME_CAP (seconds), SCHEMATHESIS_SEED (fixed by default so CI is
#      reproducible; set another to explore); extra arguments go to every `st run`.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
config="$PWD/scripts/schemathesis.toml"
venv="${SCHEMATHESIS_VENV:-/var/tmp/justus-schemathesis}"
version="4.32.5"

log() { printf '[schemathesis] %s\n' "$*" >&2; }

# --- schemathesis in its venv ---------------------------------------------------------------
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  log "installing schemathesis $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

# --- the server --------------------------------------------------------------------------------
cargo build -p justus-server --locked --quiet
bin="$target_dir/debug/justus"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
work="$(mktemp -d "${TMPDIR:-/tmp}/justus-schemathesis.XXXXXX")"
out="${SCHEMATHESIS_OUT:-$work/out}"
mkdir -p "$work/data" "$out"
pid=""
cleanup() {
  local status=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ "$status" = 0 ]; then
    rm -rf "$work"
  else
    rm -rf "$work/data"
    log "reports and the server log are kept in $work"
  fi
}
trap cleanup EXIT

# The main run's user is an instance admin, so the admin operations are fuzzed past their 403.
admin="stadmin$(date +%s%N | tail -c 8)"
JUSTUS_BIND="127.0.0.1:$port" JUSTUS_DATA_DIR="$work/data" ADMIN_USERS="$admin" \
  REGISTER_PER_IP_PER_HOUR=100000 GATEWAY_REQUESTS_PER_SECOND=100000 \
  SEARCH_REQUESTS_PER_MINUTE=100000 MEDIA_UPLOADS_PER_MINUTE=100000 \
  LOG_FORMAT=json JUSTUS_LOG="${JUSTUS_LOG:-error}" \
  "$bin" >"$work/justus.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/justus.log" >&2; log "justus exited"; exit 2; }
  sleep 0.1
done
curl -fsS "$base/health" >/dev/null || { log "justus did not start"; exit 2; }

register() {  # register [USERNAME]
  local user="${1:-st$(date +%s%N | tail -c 10)$RANDOM}"
  curl -fsS -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"correct horse battery staple\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# st writes .hypothesis/ into the cwd. The cap is a hard wall clock for all the runs together
# (not --max-time, which makes fuzzing loop until the budget is spent).
start=$(date +%s)
deadline=$((start + ${TIME_CAP:-300}))
st_run() {  # st_run NAME TOKEN [st args...]
  local name="$1" token="$2" left=$((deadline - $(date +%s)))
  shift 2
  [ "$left" -gt 0 ] || { log "wall-clock cap (${TIME_CAP:-300}s) reached before $name"; return 124; }
  (cd "$work" && timeout "$left" "$venv/bin/st" --config-file "$config" \
    run "$base/api/openapi.json" -H "Authorization: Bearer $token" \
    --max-examples "${MAX_EXAMPLES:-30}" --workers 2 --request-timeout 10 \
    --generation-database none --no-color --seed "${SCHEMATHESIS_SEED:-20261207}" \
    --report junit --report-junit-path "$out/junit-$name.xml" "$@")
}

# The operations that end the caller's own session would turn every later request into a 401:
# the main run skips them, and each gets a run of its own with a fresh session.
ending=('POST /api/v1/auth/logout' 'POST /api/v1/auth/logout-all' 'DELETE /api/v1/auth/sessions/{id}')
log "fuzzing $base/api/openapi.json (reports in $out)"
rc=0
token="$(register "$admin")" || { log "could not register a user"; exit 2; }
st_run main "$token" \
  --exclude-name-regex '^(POST /api/v1/auth/logout(-all)?|DELETE /api/v1/auth/sessions/\{id\})$' \
  "$@" || rc=$?
for op in "${ending[@]}"; do
  if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then break; fi
  token="$(register)" || { log "could not register a user"; exit 2; }
  log "$op, with a session of its own"
  r=0
  st_run "$(printf '%s' "$op" | tr -cs 'a-zA-Z' '-')" "$token" --include-name "$op" "$@" || r=$?
  [ "$r" = 0 ] || rc=$r
done
log "schemathesis exit $rc after $(($(date +%s) - start))s"
if [ "$rc" = 124 ]; then log "wall-clock cap (${TIME_CAP:-300}s) reached: failing"; fi
if [ "$rc" != 0 ] && grep -q '"level":"ERROR"' "$work/justus.log"; then
  log "server errors:"; grep '"level":"ERROR"' "$work/justus.log" | tail -n 20 >&2
fi
exit "$rc"
