#!/usr/bin/env bash
# The one test command (README): every suite in the repo.
#
# - Rust: unit, conformance (SQLite + PostgreSQL) and HTTP/WebSocket integration tests.
#   PostgreSQL suites use TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
#   outside CI they are skipped with a loud line when no server answers; with CI=true they fail.
# - Alert rules: promtool check + unit tests (Debian's prometheus package).
# - Kubernetes manifests: scripts/kubernetes-validate.sh (strict schema validation, offline).
# - API: scripts/schemathesis.sh fuzzes a fresh justus from its OpenAPI document (needs python3
#   with venv; skipped with a loud line outside CI when missing, fails with CI=true).
# - Web: generated API types up to date with docs/openapi.json, Biome (format + lint), the
#   committed web/dist equal to a fresh build of web/src, type check + build (with the first-load
#   JS budget), vitest unit tests, and end-to-end tests in Chromium against a real justus.
#   Without /usr/bin/chromium the e2e suite is skipped outside CI and fails with CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

cargo test --workspace --locked "$@"

# Alert rules (deploy/prometheus): syntax, then their unit tests. promtool comes with Debian's
# `prometheus` package; without it this is skipped outside CI and fails with CI=true.
if command -v promtool >/dev/null 2>&1; then
  promtool check rules deploy/prometheus/alerts.yml
  promtool test rules deploy/prometheus/alerts_test.yml
elif [ "${CI:-}" = "true" ]; then
  echo "promtool: missing (CI=true): failing" >&2
  exit 1
else
  echo "promtool: SKIPPED — install it (apt-get install prometheus) to check the alert rules" >&2
fi

# The Kubernetes manifests against the API schemas (kubernetes-validate in a venv, offline).
if python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
  [ -x "${KUBERNETES_VALIDATE_VENV:-/var/tmp/justus-kubernetes-validate}/bin/kubernetes-validate" ]; then
  scripts/kubernetes-validate.sh
elif [ "${CI:-}" = "true" ]; then
  echo "kubernetes-validate: python3 with venv support is missing (CI=true): failing" >&2
  exit 1
else
  echo "kubernetes-validate: SKIPPED — install python3-venv to validate deploy/kubernetes" >&2
fi

# The API against its OpenAPI document: schemathesis (in a venv outside the clone) fuzzes every
# operation of a fresh justus. Without Python's venv support this is skipped outside CI and fails
# with CI=true.
if python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
  [ -x "${SCHEMATHESIS_VENV:-/var/tmp/justus-schemathesis}/bin/st" ]; then
  scripts/schemathesis.sh
elif [ "${CI:-}" = "true" ]; then
  echo "schemathesis: python3 with venv support is missing (CI=true): failing" >&2
  exit 1
else
  echo "schemathesis: SKIPPED — install python3-venv (apt-get install python3-venv) to fuzz the API" >&2
fi

cd web
npm ci --no-audit --no-fund --loglevel=error
npm run check:api
npm run lint
# Before the build below rewrites web/dist: the committed one must match web/src.
npm run check:dist
npm run build
npm test
if [ -x /usr/bin/chromium ]; then
  cargo build -p justus-server --locked --quiet
  JUSTUS_BIN="$target_dir/debug/justus" npm run e2e
elif [ "${CI:-}" = "true" ]; then
  echo "e2e: /usr/bin/chromium is missing (CI=true): failing" >&2
  exit 1
else
  echo "e2e: SKIPPED — install Chromium (apt-get install chromium) to run the browser tests" >&2
fi
