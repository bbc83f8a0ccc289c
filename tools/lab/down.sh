#!/usr/bin/env bash
# Remove the lab hosts and their network. Keeps the image, the Ansible venv
# and the secrets directory (remove /var/lib/controlplane-lab for those).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(tools/lab/venv.sh)
"$BIN/ansible-playbook" -i inventories/lab playbooks/lab-destroy.yml
