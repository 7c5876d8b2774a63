#!/usr/bin/env bash
# Fails when the committed web/dist is not what a build of web/src makes (the server embeds
# web/dist, so a stale one ships stale code). Builds into a temporary directory and compares
# byte for byte; the checkout is not touched. The build is deterministic: same input, same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npx vite build --outDir "$tmp/dist" --emptyOutDir --logLevel error
if ! diff -r "$tmp/dist" dist >"$tmp/diff.txt" 2>&1; then
  echo "check:dist: web/dist does not match a fresh build of web/src." >&2
  echo "  Run 'npm run build' in web/ and commit web/dist. Differences:" >&2
  head -n 20 "$tmp/diff.txt" | cut -c1-200 >&2
  exit 1
fi
echo "check:dist: web/dist matches a fresh build of web/src"
