#!/usr/bin/env bash
# Bring up controlplane on this machine: MariaDB, RabbitMQ, memcached (used
# as they are when already running, else installed and started), Keystone
# and Glance, then every controlplane service, and boot a test server.
# Run as root on Debian bookworm. Re-running it is safe.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTROLPLANE_DEV_DIR="${CONTROLPLANE_DEV_DIR:-/var/lib/controlplane-dev}"
python3 -m tools.devenv up
exec "$CONTROLPLANE_DEV_DIR/venv/bin/python" -m tools.stack up "$@"
