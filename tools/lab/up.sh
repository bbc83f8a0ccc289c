#!/usr/bin/env bash
# One command for the whole HA lab on this machine (root, Debian bookworm):
# the host image, the Ansible venv, the wheelhouse the hosts install from,
# the five lab hosts, then playbooks/site.yml (Galera, RabbitMQ, memcached,
# HAProxy + Pacemaker + VIP, Keystone, Glance, controlplane) which ends by
# booting a server through the VIP. Each step is idempotent and prints its
# time.
#   tools/lab/up.sh            # build/create/deploy
#   tools/lab/up.sh --test     # and run the lab tests (tests/lab)
#   tools/lab/down.sh          # remove the hosts (keeps image, secrets)
set -euo pipefail
cd "$(dirname "$0")/../.."
t() { local s; s=$(date +%s); "$@"; echo "==> $* took $(( $(date +%s) - s ))s" >&2; }
t tools/lab/build-image.sh
BIN=$(tools/lab/venv.sh)
export PATH="$BIN:$PATH"
t tools/lab/wheelhouse.sh
t ansible-playbook -i inventories/lab playbooks/lab.yml
t ansible-playbook -i inventories/lab playbooks/site.yml
if [ "${1:-}" = "--test" ]; then
  t env PYTEST_ADDOPTS= pytest -p no:cacheprovider --confcutdir=tests/lab -m lab tests/lab
fi
