#!/usr/bin/env bash
# Builds tools/gitops-health (Argo CD's Lua health checks run with gopher-lua, and kstatus, on Kubernetes
# objects; docs/gitops-health.md) with its dependencies from the Go module proxy, into a cache directory
# keyed by a hash of the tool's source, the Go version and the platform; the gitops-health tests use it.
# Idempotent: a complete cache entry (marked by a .complete file) is reused; a half-built one is discarded
# and rebuilt. Same pattern as deploy/build-helm.sh. Cold build (empty module and build caches): about 110
# CPU-seconds, most of it compiling k8s.io/api/core/v1, which kstatus imports (2.5 minutes measured on 2
# cores shared with another build; downloading the modules added about 20 seconds). Warm: a cache hit, instant.
#
# Usage: deploy/build-gitops-health.sh     -> prints the directory holding `gitops-health` on stdout when done
# Env:   JOBHERALD_CACHE (default ~/.cache/jobherald)
set -euo pipefail

SRC="$(cd "$(dirname "$0")/../tools/gitops-health" && pwd)"
CACHE=${JOBHERALD_CACHE:-$HOME/.cache/jobherald}

command -v go >/dev/null || { echo "build-gitops-health: Go >= 1.26 is required (https://go.dev/dl)" >&2; exit 2; }
GO_VERSION=$(go env GOVERSION)
# The tool is built from this checkout, so its "version" is its source: any change to it is a new entry.
SOURCE_HASH=$(cd "$SRC" && find . -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 cat go.mod go.sum | sha256sum | cut -c1-12)
KEY="gitops-health-${SOURCE_HASH}_${GO_VERSION}_$(go env GOOS)-$(go env GOARCH)"
OUT="$CACHE/bin/$KEY"

if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

log() { echo "[build-gitops-health] $*" >&2; }
rm -rf "$OUT.partial"
mkdir -p "$OUT.partial"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
start=$SECONDS
log "compiling tools/gitops-health (cold: 1 to 3 minutes on 2 cores)"
(cd "$SRC" && go build -trimpath -ldflags "-s -w" -o "$OUT.partial/gitops-health" .)
log "gitops-health done after $((SECONDS - start))s"

printf '%s\n' "built_seconds=$((SECONDS - start))" "source=$SOURCE_HASH" "go=$GO_VERSION" > "$OUT.partial/.complete"
rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "$OUT"
