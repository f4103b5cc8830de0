#!/usr/bin/env bash
# Builds promtool (Prometheus' rule checker and rule unit-test runner) from the Go module proxy into a cache
# directory keyed by its version, the Go version and the platform; test/unit/monitoring.test.ts checks the
# chart's PrometheusRule and Grafana dashboard with it. Idempotent: a complete cache entry (marked by a
# .complete file) is reused; a half-built one is discarded and rebuilt. Same pattern as deploy/build-helm.sh.
#
# Usage: deploy/build-promtool.sh     -> prints the directory holding `promtool` on stdout when done
# Env:   JOBHERALD_CACHE (default ~/.cache/jobherald), PROMETHEUS_VERSION (the Go module's version: Prometheus
#        v3.N.P is tagged v0.3NN.P for Go, so v0.316.0 is Prometheus 3.16.0)
set -euo pipefail

PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
CACHE=${JOBHERALD_CACHE:-$HOME/.cache/jobherald}

command -v go >/dev/null || { echo "build-promtool: Go >= 1.26 is required (https://go.dev/dl)" >&2; exit 2; }
GO_VERSION=$(go env GOVERSION)
KEY="promtool-${PROMETHEUS_VERSION}_${GO_VERSION}_$(go env GOOS)-$(go env GOARCH)"
OUT="$CACHE/bin/$KEY"

if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

log() { echo "[build-promtool] $*" >&2; }
rm -rf "$OUT.partial"
mkdir -p "$OUT.partial"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
start=$SECONDS
module=github.com/prometheus/prometheus
# The release's own version string (its VERSION file), as Prometheus' promu build stamps it, so that
# `promtool --version` says which Prometheus it checks rules like.
dir=$(cd "$OUT.partial" && go mod download -json "$module@$PROMETHEUS_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -f "$dir/VERSION" ]] || { log "no VERSION file in $dir"; exit 1; }
release=$(tr -d '[:space:]' < "$dir/VERSION")
ldflags="-s -w -X github.com/prometheus/common/version.Version=$release"
ldflags+=" -X github.com/prometheus/common/version.Branch=$PROMETHEUS_VERSION"
log "compiling $module/cmd/promtool@$PROMETHEUS_VERSION (Prometheus $release; cold: several minutes on 2 cores)"
# netgo as in Prometheus' .promu.yml (a pure-Go resolver; CGO_ENABLED=0 implies it anyway).
GOBIN="$OUT.partial" go install -trimpath -tags netgo -ldflags "$ldflags" "$module/cmd/promtool@$PROMETHEUS_VERSION"
"$OUT.partial/promtool" --version >&2
log "promtool done after $((SECONDS - start))s"

printf '%s\n' "built_seconds=$((SECONDS - start))" "prometheus=$PROMETHEUS_VERSION" "release=$release" "go=$GO_VERSION" \
  > "$OUT.partial/.complete"
rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "$OUT"
