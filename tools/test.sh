#!/usr/bin/env bash
# Run every test: unit, integration (real MariaDB and RabbitMQ) and
# end-to-end (real Keystone and Glance, every service as a process, driven
# by the openstack CLI). Installs and starts what is missing first.
# Extra arguments go to pytest, e.g. tools/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTROLPLANE_DEV_DIR="${CONTROLPLANE_DEV_DIR:-/var/lib/controlplane-dev}"
python3 -m tools.devenv up
exec "$CONTROLPLANE_DEV_DIR/venv/bin/python" -m pytest -p no:cacheprovider "$@"
