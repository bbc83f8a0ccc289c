#!/usr/bin/env bash
# Build the lab host image localhost/controlplane-lab:<hash> (and :latest).
#
# Stages, each skipped when its result already exists:
#   1. host packages: podman, runc, debootstrap (apt-get, only if missing)
#   2. /etc/containers/containers.conf: runtime = "runc" and
#      default_ulimits = [] merged into the existing file (shared/LAB.md:
#      crun refuses cgroups v1 hybrid; containers may not set RLIMIT_*)
#   3. a bookworm minbase rootfs tarball cached under $LAB_DIR
#   4. its import as localhost/controlplane-lab-base:latest
#   5. `podman build` of tools/lab/Containerfile as
#      localhost/controlplane-lab:<first 12 hex of sha256(Containerfile)>,
#      also tagged :latest
#
# Usage: tools/lab/build-image.sh [--force]
#   --force   redo stages 3-5 (new debootstrap, new import, build --no-cache)
# Environment: LAB_DIR (default /var/lib/controlplane-lab),
#              LAB_SUITE (bookworm), LAB_MIRROR (Debian mirror from apt sources)
# Prints the image reference on the last line of stdout.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
LAB_DIR="${LAB_DIR:-/var/lib/controlplane-lab}"
LAB_SUITE="${LAB_SUITE:-bookworm}"
BASE_IMAGE="localhost/controlplane-lab-base:latest"
IMAGE="localhost/controlplane-lab"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

T0=$(date +%s)
stage_start() { STAGE="$1"; STAGE_T=$(date +%s); echo "==> [$STAGE] $2" >&2; }
stage_end() { echo "<== [$STAGE] $1 ($(( $(date +%s) - STAGE_T ))s)" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "build-image.sh needs root (apt-get, debootstrap, rootful podman)" >&2
  exit 1
fi
mkdir -p "$LAB_DIR"
chmod 0755 "$LAB_DIR"

# 1. host packages -----------------------------------------------------------
stage_start packages "podman, runc, debootstrap on the host"
missing=()
for pkg in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "    installing: ${missing[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >&2
  stage_end "installed ${missing[*]}"
else
  stage_end "already installed"
fi

# 2. containers.conf ---------------------------------------------------------
stage_start containers.conf "runtime=runc, default_ulimits=[]"
python3 "$HERE/containers_conf.py" /etc/containers/containers.conf >&2
stage_end "done"

# 3. debootstrap rootfs tarball ----------------------------------------------
TARBALL="$LAB_DIR/rootfs-$LAB_SUITE-minbase.tar"
stage_start debootstrap "$LAB_SUITE minbase -> $TARBALL"
if [ "$FORCE" -eq 1 ] || [ ! -s "$TARBALL" ]; then
  MIRROR="${LAB_MIRROR:-}"
  if [ -z "$MIRROR" ]; then
    # Use the Debian mirror the host's apt already reaches (active source
    # files only; the security archive has no full suite).
    MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
             | awk '$1 == "deb" && $3 == "'"$LAB_SUITE"'" {print $2}' | grep -v security | head -n1 || true)
    if [ -z "$MIRROR" ]; then
      MIRROR=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" {print $2}' \
               | grep -v security | head -n1 || true)
    fi
    MIRROR="${MIRROR:-http://deb.debian.org/debian}"
  fi
  ROOTFS=$(mktemp -d "$LAB_DIR/rootfs.XXXXXX")
  trap 'rm -rf "$ROOTFS"' EXIT
  echo "    mirror: $MIRROR" >&2
  debootstrap --variant=minbase --include=python3,iproute2,procps \
    "$LAB_SUITE" "$ROOTFS" "$MIRROR" > "$LAB_DIR/debootstrap.log" 2>&1 || {
      echo "debootstrap failed, see $LAB_DIR/debootstrap.log" >&2; tail -n 20 "$LAB_DIR/debootstrap.log" >&2; exit 1; }
  tar -C "$ROOTFS" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$ROOTFS"
  trap - EXIT
  FORCE_IMPORT=1
  stage_end "built $(du -h "$TARBALL" | cut -f1)"
else
  FORCE_IMPORT=0
  stage_end "cached"
fi

# 4. base image --------------------------------------------------------------
stage_start import "$TARBALL -> $BASE_IMAGE"
if [ "$FORCE" -eq 1 ] || [ "$FORCE_IMPORT" -eq 1 ] || ! podman image exists "$BASE_IMAGE"; then
  podman import -q "$TARBALL" "$BASE_IMAGE" >/dev/null
  stage_end "imported"
else
  stage_end "exists"
fi

# 5. lab image ---------------------------------------------------------------
HASH=$(sha256sum "$HERE/Containerfile" | cut -c1-12)
stage_start build "$IMAGE:$HASH"
if [ "$FORCE" -eq 1 ] || [ "$FORCE_IMPORT" -eq 1 ] || ! podman image exists "$IMAGE:$HASH"; then
  nocache=()
  [ "$FORCE" -eq 1 ] && nocache=(--no-cache)
  podman build "${nocache[@]}" --label "controlplane.lab.containerfile-sha256=$HASH" \
    -t "$IMAGE:$HASH" -f "$HERE/Containerfile" "$HERE" > "$LAB_DIR/build.log" 2>&1 || {
      echo "podman build failed, see $LAB_DIR/build.log" >&2; tail -n 30 "$LAB_DIR/build.log" >&2; exit 1; }
  stage_end "built"
else
  stage_end "exists, skipped"
fi
podman tag "$IMAGE:$HASH" "$IMAGE:latest"

echo "==> image ready in $(( $(date +%s) - T0 ))s" >&2
echo "$IMAGE:$HASH"
