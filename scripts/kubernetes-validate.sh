#!/usr/bin/env bash
# Validates deploy/kubernetes against the Kubernetes API schemas, offline: every manifest with
# kubernetes-validate --strict (unknown fields are errors) for the oldest and the newest
# Kubernetes minor we document, and kustomization.yaml listing exactly the manifests present.
#
# - Installs kubernetes-validate 1.37.0 (it bundles the schemas) into a venv at
#   ${KUBERNETES_VALIDATE_VENV:-/var/tmp/justus-kubernetes-validate}, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/../deploy/kubernetes"
venv="${KUBERNETES_VALIDATE_VENV:-/var/tmp/justus-kubernetes-validate}"
version="1.37.0"

log() { printf '[kubernetes-validate] %s\n' "$*" >&2; }

if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$version"; then
  log "installing kubernetes-validate $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$version"
fi

manifests=()
for f in *.yaml; do
  [ "$f" = kustomization.yaml ] || manifests+=("$f")
done
listed="$(sed -n 's/^  - \(.*\.yaml\)$/\1/p' kustomization.yaml | sort)"
present="$(printf '%s\n' "${manifests[@]}" | sort)"
if [ "$listed" != "$present" ]; then
  log "kustomization.yaml resources differ from the manifests present:"
  diff <(echo "$listed") <(echo "$present") >&2 || true
  exit 1
fi

for k in 1.30.0 1.37.0; do
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$k" "${manifests[@]}"
done
log "${#manifests[@]} manifests valid for Kubernetes 1.30 and 1.37 (strict)"
