#!/usr/bin/env bash
# Builds jobherald's image offline, without a daemon, reproducibly: the same image the Containerfile
# describes (Node 24's binary, dist/, crds/, package.json; UID 65532; entrypoint node /app/dist/main.js).
#
#   root filesystem = the Debian packages Node links against (ldd: libc6, libgcc-s1, libstdc++6),
#                     extracted with dpkg-deb -x (no maintainer scripts, no shell needed at run time)
#                   + npm's Node binary (node_modules/node/bin/node) + the bundle (npm run build)
#                   + /etc/passwd, /etc/group (nonroot 65532), /tmp
#   one layer, a tar made here with sorted names, owner 0:0 and every mtime = SOURCE_DATE_EPOCH,
#   added to an OCI layout with umoci, packed into an OCI archive (sorted, fixed mtimes).
#
# Usage: deploy/build-image.sh [--no-build] [--update-lock]
#          --no-build     pack dist/ as it is instead of building the bundle
#          --update-lock  take the Debian mirror's current versions of the packages and write them to
#                         deploy/image-debs.lock (otherwise the lock's exact versions and SHA-256s are used)
# Out:   .jobherald/image/jobherald-<version>.oci.tar, …-<version>.sbom.cdx.json, …-<version>.debs.txt
# Env:   SOURCE_DATE_EPOCH (default: last commit time, else 0), IMAGE_SOURCE, OUT_DIR
# Needs: umoci, apt-get, dpkg-deb, GNU tar (apt-get install -y umoci if missing).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
log() { echo "[build-image] $*" >&2; }

NODE_BIN=$ROOT/node_modules/node/bin/node
[[ -x $NODE_BIN ]] || { log "no $NODE_BIN: run npm ci first"; exit 2; }
NODE="$NODE_BIN"
VERSION=$("$NODE" -p 'require("./package.json").version')
LICENSE=$("$NODE" -p 'require("./package.json").license')
IMAGE_SOURCE=${IMAGE_SOURCE:-https://github.com/jobherald/jobherald}
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
OUT_DIR=${OUT_DIR:-$ROOT/.jobherald/image}
NAME=jobherald-$VERSION
WORK=$OUT_DIR/work
ARCH=$(dpkg --print-architecture)

if ! command -v umoci >/dev/null; then
  log "installing umoci"
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y umoci >&2; else sudo apt-get install -y umoci >&2; fi
fi

# Runtime libraries of Node's binary (checked with ldd below). ca-certificates is not needed: Node carries
# Mozilla's CA store, and the cluster's CA comes from the ServiceAccount mount.
DEBS=(libc6 libgcc-s1 libstdc++6)

rm -rf "$WORK"
mkdir -p "$WORK/debs" "$WORK/rootfs" "$OUT_DIR"
# The bundle is built into .jobherald-bundle-image/ (scripts/build.ts --outdir), not dist/, so that building
# the image never replaces a dist/ that running operators use; a folder beside dist/, so that the source maps'
# relative paths, and with them esbuild's chunk hashes, are the same as `npm run build`'s. --no-build packs
# dist/ as it is.
NO_BUILD=0 UPDATE_LOCK=0
for arg in "$@"; do
  case $arg in
    --no-build) NO_BUILD=1 ;;
    --update-lock) UPDATE_LOCK=1 ;;
    *) log "unknown argument $arg"; exit 2 ;;
  esac
done
LOCK=$ROOT/deploy/image-debs.lock
if [[ $NO_BUILD == 1 ]]; then
  DIST=$ROOT/dist
else
  DIST=$ROOT/.jobherald-bundle-image
  log "scripts/build.ts --outdir $DIST"
  "$NODE" scripts/build.ts --outdir "$DIST" >&2
fi
[[ -f $DIST/main.js ]] || { log "no $DIST/main.js"; exit 2; }
# The packages are pinned in deploy/image-debs.lock (package, version, architecture, SHA-256 of the .deb), so a
# rebuild takes the same bytes; --update-lock takes the mirror's current point release and rewrites the lock.
if [[ $UPDATE_LOCK == 1 ]]; then
  log "apt-get download ${DEBS[*]} (current versions, for the lock)"
  (cd "$WORK/debs" && apt-get download "${DEBS[@]}" >&2)
else
  [[ -f $LOCK ]] || { log "no $LOCK: run deploy/build-image.sh --update-lock"; exit 2; }
  pinned=()
  for pkg in "${DEBS[@]}"; do
    line=$(awk -v p="$pkg" -v a="$ARCH" '$1 == p && $3 == a' "$LOCK")
    [[ -n $line ]] || { log "$LOCK pins no $pkg for $ARCH: run deploy/build-image.sh --update-lock"; exit 2; }
    pinned+=("$pkg=$(awk '{print $2}' <<<"$line")")
  done
  log "apt-get download ${pinned[*]} (pinned)"
  (cd "$WORK/debs" && apt-get download "${pinned[@]}" >&2) || {
    log "the Debian mirror no longer serves ${pinned[*]} (it keeps only the current point release):"
    log "run deploy/build-image.sh --update-lock and review the change to deploy/image-debs.lock"
    exit 1
  }
fi
RFS=$WORK/rootfs
: >"$WORK/debs.txt"
for deb in $(ls "$WORK"/debs/*.deb | sort); do
  dpkg-deb -x "$deb" "$RFS"
  printf '%s\t%s\t%s\t%s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" \
    "$(dpkg-deb -f "$deb" Architecture)" "$(sha256sum "$deb" | cut -d' ' -f1)" >>"$WORK/debs.txt"
done
if [[ $UPDATE_LOCK == 1 ]]; then
  { [[ -f $LOCK ]] && awk -v a="$ARCH" '$3 != a' "$LOCK"; cat "$WORK/debs.txt"; } | LC_ALL=C sort >"$LOCK.new"
  mv "$LOCK.new" "$LOCK"
  log "wrote $LOCK"
else
  # the same bytes as when the lock was written: the mirror's files, checked against the lock's SHA-256s
  for line in $(awk -v OFS='|' '{print $1, $2, $3, $4}' "$WORK/debs.txt"); do
    IFS='|' read -r pkg version arch sum <<<"$line"
    awk -v p="$pkg" -v v="$version" -v a="$arch" -v s="$sum" '$1 == p && $2 == v && $3 == a && $4 == s {f=1} END {exit !f}' "$LOCK" ||
      { log "$pkg $version ($arch): SHA-256 $sum is not the one $LOCK pins"; exit 1; }
  done
fi
# Debian 12 is merged-/usr: /lib, /lib64, /bin… are symlinks into /usr. The packages' data trees carry
# /lib/… paths, so make the links (and move what dpkg-deb put there) as base-files/usrmerge would.
for d in bin lib lib64 sbin; do
  if [[ -d $RFS/$d && ! -L $RFS/$d ]]; then
    mkdir -p "$RFS/usr/$d"
    cp -a "$RFS/$d/." "$RFS/usr/$d/"
    rm -rf "${RFS:?}/$d"
  fi
  [[ -d $RFS/usr/$d ]] && ln -s "usr/$d" "$RFS/$d"
done
# Docs, man pages, locales and gconv modules are not needed by Node (it has its own ICU).
rm -rf "$RFS/usr/share/doc" "$RFS/usr/share/man" "$RFS/usr/share/info" "$RFS/usr/share/lintian" \
  "$RFS/usr/share/locale" "$RFS/usr/lib/$(uname -m)-linux-gnu/gconv" "$RFS/usr/share/gcc" "$RFS/usr/share/gdb" \
  "$RFS/etc/ld.so.conf.d" "$RFS/usr/bin" "$RFS/usr/sbin" "$RFS/bin" "$RFS/sbin" "$RFS/usr/libexec" "$RFS/etc/gai.conf" \
  "$RFS/etc/bindresvport.blacklist"
# No shell and no package manager in the image: the only executable is Node.
mkdir -p "$RFS/usr/local/bin" "$RFS/app" "$RFS/etc" "$RFS/tmp" "$RFS/home/nonroot" "$RFS/proc" "$RFS/sys" "$RFS/dev"
cp "$NODE_BIN" "$RFS/usr/local/bin/node"
cp -r "$DIST" "$RFS/app/dist"
cp -r crds package.json LICENSE "$RFS/app/"
cat >"$RFS/etc/passwd" <<P
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
P
cat >"$RFS/etc/group" <<G
root:x:0:
nobody:x:65534:
nonroot:x:65532:
G
printf 'hosts: files dns\n' >"$RFS/etc/nsswitch.conf"
: >"$RFS/etc/hosts"; : >"$RFS/etc/resolv.conf" # the runtime mounts its own
chmod 1777 "$RFS/tmp"
chmod 0755 "$RFS/home/nonroot"

# The libraries Node needs must all resolve inside the root filesystem.
missing=$(for lib in $(ldd "$NODE_BIN" | awk '/=>/ {print $1}'); do
  compgen -G "$RFS/usr/lib/*-linux-gnu/$lib" >/dev/null || echo "$lib"
done)
[[ -z $missing ]] || { log "missing in rootfs: $missing"; exit 1; }

# One layer: sorted, numeric owners 0:0 except /home/nonroot, fixed mtimes, no pax atime/ctime.
log "layer"
(cd "$RFS" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
  tar --null --no-recursion --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$WORK/layer.tar" -T -)

LAYOUT=$WORK/oci
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$VERSION"
umoci raw add-layer --image "$LAYOUT:$VERSION" --history.created "$CREATED" \
  --history.created_by "deploy/build-image.sh (Debian ${DEBS[*]}, node $("$NODE" --version), dist/)" "$WORK/layer.tar"
umoci config --image "$LAYOUT:$VERSION" --created "$CREATED" --no-history \
  --architecture "$ARCH" --os linux \
  --config.user 65532:65532 --config.workingdir /app \
  --config.env PATH=/usr/local/bin --config.env NODE_ENV=production \
  --config.entrypoint /usr/local/bin/node --config.entrypoint /app/dist/main.js \
  --config.cmd controller --config.cmd --help \
  --config.exposedports 8080/tcp --config.exposedports 8081/tcp --config.stopsignal SIGTERM \
  --config.label "org.opencontainers.image.source=$IMAGE_SOURCE" \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --config.label "org.opencontainers.image.licenses=$LICENSE" \
  --config.label "org.opencontainers.image.title=jobherald" \
  --config.label "org.opencontainers.image.created=$CREATED" \
  --manifest.annotation "org.opencontainers.image.source=$IMAGE_SOURCE" \
  --manifest.annotation "org.opencontainers.image.version=$VERSION" \
  --manifest.annotation "org.opencontainers.image.licenses=$LICENSE" \
  --manifest.annotation "org.opencontainers.image.created=$CREATED"
umoci gc --layout "$LAYOUT"

log "archive"
(cd "$LAYOUT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
  tar --null --no-recursion --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$OUT_DIR/$NAME.oci.tar" -T -)

# SBOM: the npm dependencies the bundle carries (production only), plus the Debian packages and Node.
log "sbom"
npm sbom --sbom-format cyclonedx --omit dev >"$WORK/npm.cdx.json"
cp "$WORK/debs.txt" "$OUT_DIR/$NAME.debs.txt"
"$NODE" -e '
const fs = require("fs");
const [npmFile, debsFile, nodeVersion, arch, created] = process.argv.slice(1);
const sbom = JSON.parse(fs.readFileSync(npmFile, "utf8"));
delete sbom.serialNumber; // random per run: not reproducible
sbom.metadata = { ...sbom.metadata, timestamp: created };
for (const line of fs.readFileSync(debsFile, "utf8").trim().split("\n")) {
  const [name, version, a, sha256] = line.split("\t");
  sbom.components.push({ type: "library", name, version, "bom-ref": `pkg:deb/debian/${name}@${version}?arch=${a}`,
    purl: `pkg:deb/debian/${name}@${version}?arch=${a}`, hashes: [{ alg: "SHA-256", content: sha256 }] });
}
const v = nodeVersion.replace(/^v/, "");
sbom.components.push({ type: "application", name: "node", version: v, "bom-ref": `pkg:npm/node@${v}`,
  purl: `pkg:npm/node@${v}`, description: `Node.js binary from npm package node (${arch})` });
process.stdout.write(JSON.stringify(sbom, null, 2) + "\n");
' "$WORK/npm.cdx.json" "$WORK/debs.txt" "$("$NODE" --version)" "$ARCH" "$CREATED" >"$OUT_DIR/$NAME.sbom.cdx.json"

size=$(stat -c %s "$OUT_DIR/$NAME.oci.tar")
unpacked=$(du -sb "$RFS" | cut -f1)
log "image: $OUT_DIR/$NAME.oci.tar ($((size / 1024 / 1024)) MiB compressed, $((unpacked / 1024 / 1024)) MiB unpacked)"
log "digest: $(sha256sum "$OUT_DIR/$NAME.oci.tar" | cut -d' ' -f1)"
log "rootfs: $RFS (for deploy/run-image.sh / test/support/image.ts)"
echo "$OUT_DIR/$NAME.oci.tar"
