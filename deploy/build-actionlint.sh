#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter) from the Go module proxy into a cache directory keyed
# by its version, the Go version and the platform; test/unit/workflows.test.ts lints .github/workflows/ with it.
# Idempotent: a complete cache entry (marked by a .complete file) is reused; a half-built one is discarded and
# rebuilt. Same pattern as deploy/build-helm.sh.
#
# Usage: deploy/build-actionlint.sh     -> prints the directory holding `actionlint` on stdout when done
# Env:   JOBHERALD_CACHE (default ~/.cache/jobherald), ACTIONLINT_VERSION
set -euo pipefail

ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}
CACHE=${JOBHERALD_CACHE:-$HOME/.cache/jobherald}

command -v go >/dev/null || { echo "build-actionlint: Go >= 1.26 is required (https://go.dev/dl)" >&2; exit 2; }
GO_VERSION=$(go env GOVERSION)
KEY="actionlint-${ACTIONLINT_VERSION}_${GO_VERSION}_$(go env GOOS)-$(go env GOARCH)"
OUT="$CACHE/bin/$KEY"

if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

log() { echo "[build-actionlint] $*" >&2; }
rm -rf "$OUT.partial"
mkdir -p "$OUT.partial"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
start=$SECONDS
module=github.com/rhysd/actionlint
# The version variables GoReleaser sets in actionlint's releases, so that `actionlint -version` names it.
ldflags="-s -w -X $module.version=$ACTIONLINT_VERSION -X '$module.installedFrom=built from the Go module proxy by deploy/build-actionlint.sh'"
log "compiling $module/cmd/actionlint@$ACTIONLINT_VERSION"
GOBIN="$OUT.partial" go install -trimpath -ldflags "$ldflags" "$module/cmd/actionlint@$ACTIONLINT_VERSION"
"$OUT.partial/actionlint" -version >&2
log "actionlint done after $((SECONDS - start))s"

printf '%s\n' "built_seconds=$((SECONDS - start))" "actionlint=$ACTIONLINT_VERSION" "go=$GO_VERSION" > "$OUT.partial/.complete"
rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "$OUT"
