#!/usr/bin/env bash
# yamllint and ansible-lint (production profile) over roles/, playbooks/ and
# inventories/, from the lab's Ansible venv (created by tools/lab/venv.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(tools/lab/venv.sh)
echo "==> yamllint"
"$BIN/yamllint" -s .
echo "==> ansible-lint --profile production"
"$BIN/ansible-lint" --profile production --offline -q roles playbooks
echo "<== lint clean"
