#!/usr/bin/env bash
# Run every test. With no arguments:
#   1. pytest over tests/: unit, integration (real MariaDB and RabbitMQ),
#      end-to-end (real Keystone and Glance, every service as a process,
#      driven by the openstack CLI) and the OCF agents (ocf-tester);
#   2. the HA lab pipeline (tools/lab/ci.sh): Ansible lint, the example
#      production inventory check, a fresh lab deployed by
#      playbooks/site.yml, a second site.yml run that must change nothing,
#      the lab tests and every failover drill once. The roles' molecule
#      scenarios run with `make molecule` (LAB_CI_MOLECULE=1 adds them here).
# Installs and starts what is missing first. Arguments go to pytest alone,
# e.g. tools/test.sh tests/unit -x (the lab pipeline is then skipped; set
# CONTROLPLANE_SKIP_LAB=1 to skip it in a full run too).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTROLPLANE_DEV_DIR="${CONTROLPLANE_DEV_DIR:-/var/lib/controlplane-dev}"
python3 -m tools.devenv up
if [ $# -eq 0 ]; then
  # Everything but the lab tests (marker `lab`): those run in the lab
  # pipeline below, in the lab's venv, against the lab it deploys - never
  # here, where a lab left running by an earlier run would make them run
  # without Ansible.
  "$CONTROLPLANE_DEV_DIR/venv/bin/python" -m pytest -p no:cacheprovider -m "not lab"
  if [ "${CONTROLPLANE_SKIP_LAB:-0}" != 1 ]; then
    tools/lab/ci.sh
  fi
else
  "$CONTROLPLANE_DEV_DIR/venv/bin/python" -m pytest -p no:cacheprovider "$@"
fi
