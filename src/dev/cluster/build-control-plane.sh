#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok from the Go module proxy
# into a cache directory keyed by every version that shapes the binaries. Idempotent: a complete cache
# entry (marked by a .complete file) is reused; a half-built one is discarded and rebuilt.
#
# Usage: build-control-plane.sh            -> prints the bin directory on stdout when done
# Env:   JOBHERALD_CACHE (default ~/.cache/jobherald), K8S_VERSION, ETCD_VERSION, KWOK_VERSION
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${JOBHERALD_CACHE:-$HOME/.cache/jobherald}

command -v go >/dev/null || { echo "build-control-plane: Go >= 1.26 is required (https://go.dev/dl)" >&2; exit 2; }
GO_VERSION=$(go env GOVERSION)
GOARCH=$(go env GOARCH)
GOOS=$(go env GOOS)
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${GO_VERSION}_${GOOS}-${GOARCH}"
OUT="$CACHE/bin/$KEY"

if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

log() { echo "[build-control-plane] $*" >&2; }
rm -rf "$OUT.partial"
mkdir -p "$OUT.partial" "$CACHE/src"
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
start=$SECONDS

# --- Kubernetes: a wrapper module that replaces every staging module (required at v0.0.0 upstream)
#     with its published k8s.io/<name> v0.36.N counterpart.
k8s_minor=${K8S_VERSION#v1.}          # 36.3
staging_version="v0.${k8s_minor}"     # v0.36.3
wrap="$CACHE/src/k8s-$K8S_VERSION"
rm -rf "$wrap"; mkdir -p "$wrap"
log "resolving k8s.io/kubernetes@$K8S_VERSION"
gomod=$(cd "$wrap" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
{
  echo "module jobherald.dev/k8s-wrapper"
  echo "go 1.26.0"
  echo "godebug default=go1.26"
  echo "require k8s.io/kubernetes $K8S_VERSION"
  # every k8s.io/<x> v0.0.0 requirement is a staging module
  grep -Eo 'k8s\.io/[a-z0-9-]+ v0\.0\.0($|[[:space:]])' "$gomod" | sort -u | while read -r mod _; do
    echo "replace $mod => $mod $staging_version"
  done
} > "$wrap/go.mod"
cat > "$wrap/tools.go" <<'GO'
package main

func main() {}
GO
log "downloading Kubernetes dependencies"
(cd "$wrap" && go get "k8s.io/kubernetes@$K8S_VERSION" >/dev/null)
ldpkg_cb=k8s.io/component-base/version
ldpkg_cg=k8s.io/client-go/pkg/version
major=1; minor=${k8s_minor%%.*}
ldflags="-s -w"
for p in $ldpkg_cb $ldpkg_cg; do
  ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z -X $p.gitCommit=module-proxy"
done
log "compiling kube-apiserver, kube-controller-manager, kube-scheduler (cold: many minutes on 2 cores)"
(cd "$wrap" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$OUT.partial/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
log "kubernetes done after $((SECONDS - start))s"

# --- etcd: the server module has replace directives too, so build it through a wrapper as well.
ewrap="$CACHE/src/etcd-$ETCD_VERSION"
rm -rf "$ewrap"; mkdir -p "$ewrap"
printf 'module jobherald.dev/etcd-wrapper\ngo 1.26.0\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$ewrap/go.mod"
printf 'package main\n\nfunc main() {}\n' > "$ewrap/tools.go"
(cd "$ewrap" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null)
log "compiling etcd"
(cd "$ewrap" && go build -trimpath -ldflags "-s -w" -o "$OUT.partial/etcd" go.etcd.io/etcd/server/v3)
log "etcd done after $((SECONDS - start))s"

# --- kwok: no replace directives; built in its own module so its dependency versions stay its own.
log "compiling kwok"
GOBIN="$OUT.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
kwok_src=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION
mkdir -p "$OUT.partial/kwok-stages"
cp -r "$kwok_src/kustomize/stage/." "$OUT.partial/kwok-stages/"
chmod -R u+w "$OUT.partial/kwok-stages"
log "kwok done after $((SECONDS - start))s"

printf '%s\n' "built_seconds=$((SECONDS - start))" "k8s=$K8S_VERSION" "etcd=$ETCD_VERSION" "kwok=$KWOK_VERSION" "go=$GO_VERSION" > "$OUT.partial/.complete"
rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "$OUT"
