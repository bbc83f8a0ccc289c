#!/usr/bin/env bash
# Build the wheelhouses the deployment roles install from, on this machine,
# so that the lab hosts need no package index:
#
#   $WHEELS/controlplane/   the controlplane wheel (from this repository) and
#                           every wheel it depends on
#   $WHEELS/openstack/      Keystone, Glance, gunicorn, PyMySQL,
#                           python-memcached, pymemcache and their deps
#   $WHEELS/<name>.tar      the same directory as one tarball (what the roles
#                           copy: one file instead of ~150)
#   $WHEELS/<name>.sha256   sha256 of the tarball (roles/*: reinstall marker)
#   $WHEELS/<name>.inputs   hash of what the wheelhouse was built from
#
# Idempotent: a wheelhouse is rebuilt only when the hash of its inputs
# changed (the requirement list, pyproject.toml, the Python version). The
# controlplane wheel alone is rebuilt when the repository's source
# (controlplane/, pyproject.toml, README.md) changed; its dependencies are
# kept. An unchanged run prints "up to date" and touches nothing.
#
# Usage: tools/lab/wheelhouse.sh [--force]
# Environment: LAB_DIR (default /var/lib/controlplane-lab),
#              WHEELS (default $LAB_DIR/wheels), PYTHON (default python3).
# The wheels are built for this machine's Python and platform: the lab hosts
# run the same Debian bookworm (Python 3.11, x86_64).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB_DIR="${LAB_DIR:-/var/lib/controlplane-lab}"
WHEELS="${WHEELS:-$LAB_DIR/wheels}"
PYTHON="${PYTHON:-python3}"
BUILDER="$LAB_DIR/wheel-builder-venv"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# Keystone + Glance set (same pins as tools/devenv/venvs.py).
OPENSTACK_REQUIREMENTS=(
  keystone==30.0.0
  glance==33.0.0
  gunicorn==27.0.1
  PyMySQL
  python-memcached
  pymemcache
)

T0=$(date +%s)
log() { echo "==> $*" >&2; }
mkdir -p "$WHEELS"

PYVER=$("$PYTHON" -c 'import sys, platform; print(sys.version.split()[0], platform.machine())')

# A venv with a recent pip and wheel/setuptools to build with.
if [ ! -x "$BUILDER/bin/pip" ]; then
  log "creating the wheel builder venv $BUILDER"
  "$PYTHON" -m venv "$BUILDER"
  "$BUILDER/bin/pip" install -q --disable-pip-version-check -U pip wheel setuptools 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
fi
PIP=("$BUILDER/bin/pip" --disable-pip-version-check)
# pip output goes to stderr without the noise of unreachable extra index
# locations some machines configure.
pip_run() { "${PIP[@]}" "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2; }

# pack NAME: tarball + sha256 of $WHEELS/NAME (written atomically).
pack() {
  local name="$1"
  tar -C "$WHEELS" --sort=name --mtime='2000-01-01 00:00Z' --owner=0 --group=0 \
      --numeric-owner -cf "$WHEELS/$name.tar.tmp" "$name"
  mv "$WHEELS/$name.tar.tmp" "$WHEELS/$name.tar"
  sha256sum "$WHEELS/$name.tar" | cut -d' ' -f1 > "$WHEELS/$name.sha256"
  log "$name: $(find "$WHEELS/$name" -name '*.whl' | wc -l) wheels, $(du -h "$WHEELS/$name.tar" | cut -f1)"
}

# ---------------------------------------------------------------- openstack
os_inputs=$(printf '%s\n' "$PYVER" "${OPENSTACK_REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)
if [ "$FORCE" -eq 0 ] && [ -s "$WHEELS/openstack.tar" ] && \
   [ "$(cat "$WHEELS/openstack.inputs" 2>/dev/null)" = "$os_inputs" ]; then
  log "openstack wheelhouse is up to date"
else
  log "building the openstack wheelhouse (Keystone, Glance, gunicorn, ...)"
  rm -rf "$WHEELS/openstack.new"
  mkdir -p "$WHEELS/openstack.new"
  pip_run wheel -q --wheel-dir "$WHEELS/openstack.new" "${OPENSTACK_REQUIREMENTS[@]}" >&2
  printf '%s\n' "${OPENSTACK_REQUIREMENTS[@]}" > "$WHEELS/openstack.new/requirements.txt"
  rm -rf "$WHEELS/openstack"
  mv "$WHEELS/openstack.new" "$WHEELS/openstack"
  pack openstack
  echo "$os_inputs" > "$WHEELS/openstack.inputs"
fi

# ------------------------------------------------------------- controlplane
# Dependencies: rebuilt when pyproject.toml (or Python) changes.
cp_dep_inputs=$(printf '%s\n' "$PYVER" | cat - "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
# The controlplane wheel: rebuilt when any of its source files changes.
cp_src_inputs=$(cd "$ROOT" && find controlplane -type f \
                  ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z \
                  | xargs -0 sha256sum | cat - pyproject.toml README.md | sha256sum | cut -d' ' -f1)
cp_inputs="$cp_dep_inputs $cp_src_inputs"
old_inputs=$(cat "$WHEELS/controlplane.inputs" 2>/dev/null || true)
if [ "$FORCE" -eq 0 ] && [ -s "$WHEELS/controlplane.tar" ] && [ "$old_inputs" = "$cp_inputs" ]; then
  log "controlplane wheelhouse is up to date"
else
  # Build from a copy of the sources: an in-tree build would leave build/
  # and *.egg-info in the repository.
  SRC=$(mktemp -d "$LAB_DIR/cp-src.XXXXXX")
  trap 'rm -rf "$SRC"' EXIT
  (cd "$ROOT" && tar --exclude='__pycache__' --exclude='*.pyc' -cf - controlplane pyproject.toml README.md) \
    | tar -C "$SRC" -xf -
  if [ "$FORCE" -eq 1 ] || [ ! -d "$WHEELS/controlplane" ] || \
     [ "${old_inputs%% *}" != "$cp_dep_inputs" ]; then
    log "building the controlplane wheelhouse (controlplane and its dependencies)"
    rm -rf "$WHEELS/controlplane.new"
    mkdir -p "$WHEELS/controlplane.new"
    pip_run wheel -q --wheel-dir "$WHEELS/controlplane.new" "$SRC" >&2
    rm -rf "$WHEELS/controlplane"
    mv "$WHEELS/controlplane.new" "$WHEELS/controlplane"
  else
    log "controlplane source changed: rebuilding the controlplane wheel only"
    rm -f "$WHEELS"/controlplane/controlplane-*.whl
    pip_run wheel -q --no-deps --wheel-dir "$WHEELS/controlplane" "$SRC" >&2
  fi
  echo "$cp_src_inputs" > "$WHEELS/controlplane/SOURCE-SHA256"
  pack controlplane
  echo "$cp_inputs" > "$WHEELS/controlplane.inputs"
fi

log "wheelhouses ready in $WHEELS ($(( $(date +%s) - T0 ))s)"
echo "$WHEELS"
