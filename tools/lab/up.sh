#!/usr/bin/env bash
# One command for the whole lab: image, Ansible venv, the five hosts,
# infrastructure (Galera, RabbitMQ, memcached), then the lab tests.
# Each step is idempotent and prints its time.
#   tools/lab/up.sh            # build/create/configure/test
#   tools/lab/up.sh --no-test  # skip pytest
#   tools/lab/down.sh          # remove the hosts (keeps image, secrets)
set -euo pipefail
cd "$(dirname "$0")/../.."
t() { local s=$(date +%s); "$@"; echo "==> $* took $(( $(date +%s) - s ))s" >&2; }
t tools/lab/build-image.sh
BIN=$(tools/lab/venv.sh)
export PATH="$BIN:$PATH"
t ansible-playbook -i inventories/lab playbooks/lab.yml
t ansible-playbook -i inventories/lab playbooks/infra.yml
if [ "${1:-}" != "--no-test" ]; then
  t pytest -p no:cacheprovider --confcutdir=tests/lab -m lab tests/lab/test_infra.py
fi
