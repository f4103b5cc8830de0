#!/usr/bin/env bash
# Builds the Helm CLI from the Go module proxy into a cache directory keyed by its version, the Go version
# and the platform; the chart tests and deploy/render.sh use it. Idempotent: a complete cache entry (marked
# by a .complete file) is reused; a half-built one is discarded and rebuilt. Same pattern as
# src/dev/cluster/build-control-plane.sh. Cold build: about 3 minutes on 2 cores.
#
# Usage: deploy/build-helm.sh     -> prints the directory holding `helm` on stdout when done
# Env:   JOBHERALD_CACHE (default ~/.cache/jobherald), HELM_VERSION
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
CACHE=${JOBHERALD_CACHE:-$HOME/.cache/jobherald}

command -v go >/dev/null || { echo "build-helm: Go >= 1.26 is required (https://go.dev/dl)" >&2; exit 2; }
GO_VERSION=$(go env GOVERSION)
KEY="helm-${HELM_VERSION}_${GO_VERSION}_$(go env GOOS)-$(go env GOARCH)"
OUT="$CACHE/bin/$KEY"

if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

log() { echo "[build-helm] $*" >&2; }
rm -rf "$OUT.partial"
mkdir -p "$OUT.partial"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
start=$SECONDS
major=${HELM_VERSION%%.*} # v3
module="helm.sh/helm/$major"
# Like Helm's Makefile: the version, and the Kubernetes version `helm template` and `helm lint` assume
# (one minor above the client-go it is built with), which otherwise defaults to v1.20.
gomod=$(cd "$OUT.partial" && go mod download -json "$module@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
kube_minor=$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -1)
[[ -n "$kube_minor" ]] || { log "cannot find the client-go version in $gomod"; exit 1; }
ldflags="-s -w -X $module/internal/version.version=$HELM_VERSION"
for pkg in pkg/chartutil pkg/lint/rules; do
  ldflags+=" -X $module/$pkg.k8sVersionMajor=1 -X $module/$pkg.k8sVersionMinor=$kube_minor"
done
log "compiling $module/cmd/helm@$HELM_VERSION (cold: about 3 minutes on 2 cores)"
GOBIN="$OUT.partial" go install -trimpath -ldflags "$ldflags" "$module/cmd/helm@$HELM_VERSION"
"$OUT.partial/helm" version --short >&2
log "helm done after $((SECONDS - start))s"

printf '%s\n' "built_seconds=$((SECONDS - start))" "helm=$HELM_VERSION" "go=$GO_VERSION" > "$OUT.partial/.complete"
rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "$OUT"
