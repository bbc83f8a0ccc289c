#!/usr/bin/env bash
# Create or update the Ansible venv for the lab: $LAB_DIR/ansible-venv
# (default /var/lib/controlplane-lab/ansible-venv) from requirements-lab.txt.
# Idempotent: does nothing when the venv already holds exactly the pinned
# requirements (a hash of the file is stored in the venv).
# Usage: tools/lab/venv.sh [--force]; prints the venv's bin directory last.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB_DIR="${LAB_DIR:-/var/lib/controlplane-lab}"
VENV="${LAB_VENV:-$LAB_DIR/ansible-venv}"
REQ="$ROOT/requirements-lab.txt"
PYTHON="${PYTHON:-python3}"
T0=$(date +%s)
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ "${1:-}" = "--force" ]; then rm -rf "$VENV"; fi
if [ -x "$VENV/bin/ansible-playbook" ] && [ "$(cat "$VENV/.requirements-sha256" 2>/dev/null)" = "$want" ]; then
  echo "==> $VENV is up to date with requirements-lab.txt" >&2
else
  echo "==> creating/updating $VENV from requirements-lab.txt" >&2
  mkdir -p "$LAB_DIR"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ" >&2
  echo "$want" > "$VENV/.requirements-sha256"
  echo "<== venv ready ($(( $(date +%s) - T0 ))s)" >&2
fi
echo "$VENV/bin"
