#!/usr/bin/env bash
# The one test command (README): every suite in the repo.
# PostgreSQL suites use TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
# outside CI they are skipped with a loud line when no server answers; with CI=true they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
