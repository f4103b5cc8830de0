#!/usr/bin/env bash
# Runs the image built by deploy/build-image.sh as a container, with crun and no daemon, the way a kubelet
# would: its own root filesystem read-only, UID 65532, the image's entrypoint, a tmpfs /tmp, host network.
#
# Usage: deploy/run-image.sh [--name NAME] [--mount SRC:DST]… [--env K=V]… [--entrypoint PATH] -- ARGS…
#        (ARGS are appended to the image's entrypoint, like `podman run IMAGE ARGS…`)
# Env:   IMAGE (default .jobherald/image/jobherald-<version>.oci.tar), RUN_DIR (default .jobherald/image/run)
#
# What makes crun work on this machine (Debian 12 in a container, cgroups v1 + a cgroup2 "unified" mount):
#  - crun refuses "cgroups in hybrid mode": crun runs in a private mount namespace in which
#    /sys/fs/cgroup/unified is unmounted, so it sees plain cgroups v1, and --cgroup-manager=disabled;
#  - setrlimit(RLIMIT_NOFILE) is not permitted: the process's rlimits are dropped from config.json;
#  - no network namespace (host network) and no cgroup namespace / /sys/fs/cgroup mount.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE=$ROOT/node_modules/node/bin/node
VERSION=$("$NODE" -p 'require("./package.json").version')
IMAGE=${IMAGE:-$ROOT/.jobherald/image/jobherald-$VERSION.oci.tar}
RUN_DIR=${RUN_DIR:-$ROOT/.jobherald/image/run}
name=jobherald-$$
mounts=() envs=() entrypoint=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --mount) mounts+=("$2"); shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --entrypoint) entrypoint+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
command -v crun >/dev/null && command -v umoci >/dev/null || { echo "run-image: needs crun and umoci (apt-get install -y crun umoci)" >&2; exit 2; }

# Unpack once per image (keyed by the archive's index.json, which names the manifest digest; umoci unpack
# writes rootfs + a config.json from the image's config).
digest=$(tar -xOf "$IMAGE" ./index.json | sha256sum | cut -c1-16)
BASE=$RUN_DIR/$digest
if [[ ! -f $BASE/.complete ]]; then
  rm -rf "$BASE"; mkdir -p "$BASE/layout"
  tar -xf "$IMAGE" -C "$BASE/layout"
  umoci unpack --image "$BASE/layout:$VERSION" "$BASE/bundle" >&2
  touch "$BASE/.complete"
fi
BUNDLE=$RUN_DIR/$name
rm -rf "$BUNDLE"; mkdir -p "$BUNDLE"
ln -s "$BASE/bundle/rootfs" "$BUNDLE/rootfs"

JH_CONTAINER_NAME=$name "$NODE" - "$BASE/bundle/config.json" "$BUNDLE/config.json" "$BASE/bundle/rootfs" \
  "${#mounts[@]}" "${mounts[@]}" "${#envs[@]}" "${envs[@]}" "${#entrypoint[@]}" "${entrypoint[@]}" "$@" <<'JS'
const fs = require('fs');
const [from, to, rootfs, ...rest] = process.argv.slice(2);
const take = () => { const n = Number(rest.shift()); return rest.splice(0, n); };
const mounts = take(), envs = take(), entrypoint = take(), args = rest;
const c = JSON.parse(fs.readFileSync(from, 'utf8'));
c.root = { path: rootfs, readonly: true };
c.hostname = process.env.JH_CONTAINER_NAME; // a Pod's hostname is its name (the operator's leader identity)
c.process.terminal = false;
delete c.process.rlimits;
if (entrypoint.length) c.process.args = entrypoint;
else c.process.args = c.process.args.slice(0, 2); // the image's ENTRYPOINT (umoci appends CMD)
if (args.length) c.process.args.push(...args);
else if (!entrypoint.length) c.process.args.push('controller', '--help');
c.process.env.push(...envs);
delete c.linux.resources;
delete c.linux.cgroupsPath;
c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'network' && n.type !== 'cgroup');
c.mounts = c.mounts.filter((m) => m.destination !== '/sys/fs/cgroup');
c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=64m'] });
for (const m of ['/etc/resolv.conf', '/etc/hosts'])
  c.mounts.push({ destination: m, type: 'bind', source: m, options: ['rbind', 'ro'] });
for (const spec of mounts) {
  const [source, destination] = spec.split(':');
  c.mounts.push({ destination, type: 'bind', source: fs.realpathSync(source), options: ['rbind', 'ro'] });
}
fs.writeFileSync(to, JSON.stringify(c, null, 1));
JS

cleanup() { crun delete -f "$name" >/dev/null 2>&1 || true; rm -rf "$BUNDLE"; }
trap cleanup EXIT
# crun in the foreground: its exit status is the container's; signals sent to this script's crun reach PID 1.
unshare --mount --propagation private sh -c '
  if grep -q " /sys/fs/cgroup/unified " /proc/self/mountinfo; then umount -l /sys/fs/cgroup/unified; fi
  exec crun --cgroup-manager=disabled run --bundle "$1" "$2"' sh "$BUNDLE" "$name" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' TERM INT
set +e
wait $pid; rc=$?
# a trapped signal interrupts wait: wait again for crun's own exit status
while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done
exit $rc
