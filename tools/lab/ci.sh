#!/usr/bin/env bash
# The HA lab pipeline that CI runs after the Python suites:
#   1. lint: yamllint and ansible-lint (production profile)
#   2. molecule test of every role (converge, idempotence, testinfra verify),
#      LAB_CI_JOBS scenarios at a time (default 2)
#   3. a fresh lab (tools/lab/up.sh), playbooks/site.yml twice: the second
#      run must report changed=0 on every host
#   4. the lab tests (tests/lab, testinfra) and removal of the lab
# Every step prints its time; logs of the molecule runs go to
# $LAB_DIR/logs/. Usage: tools/lab/ci.sh [--keep-lab] [--skip-molecule]
set -euo pipefail
cd "$(dirname "$0")/../.."
LAB_DIR="${LAB_DIR:-/var/lib/controlplane-lab}"
JOBS="${LAB_CI_JOBS:-2}"
KEEP=0; MOLECULE=1
for arg in "$@"; do
  case "$arg" in
    --keep-lab) KEEP=1 ;;
    --skip-molecule) MOLECULE=0 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# PYTEST_ADDOPTS is meant for the Python suites: the lab venv's pytest (lab
# tests, molecule's testinfra verifiers) has no pytest-timeout.
unset PYTEST_ADDOPTS
mkdir -p "$LAB_DIR/logs"
T0=$(date +%s)
step() { echo; echo "==> [$(( $(date +%s) - T0 ))s] $*"; }
timed() { local s; s=$(date +%s); "$@"; echo "<== $1 ${2:-} took $(( $(date +%s) - s ))s"; }

step "lab image"
timed tools/lab/build-image.sh
BIN=$(tools/lab/venv.sh)
export PATH="$BIN:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

step "lint"
timed tools/lab/lint.sh

if [ "$MOLECULE" = 1 ]; then
  step "molecule test of every role ($JOBS at a time)"
  roles=$(ls -d roles/*/molecule/default | cut -d/ -f2)
  failed=()
  run_one() {
    local role=$1 s; s=$(date +%s)
    if (cd "roles/$role" && molecule test) >"$LAB_DIR/logs/molecule-$role.log" 2>&1; then
      echo "    molecule $role: passed in $(( $(date +%s) - s ))s"
    else
      echo "    molecule $role: FAILED in $(( $(date +%s) - s ))s (log $LAB_DIR/logs/molecule-$role.log)"
      tail -n 40 "$LAB_DIR/logs/molecule-$role.log" | sed 's/^/    | /'
      return 1
    fi
  }
  pids=(); names=()
  for role in $roles; do
    run_one "$role" & pids+=($!); names+=("$role")
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 2; done
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "molecule failed for: ${failed[*]}" >&2
    exit 1
  fi
fi

step "fresh lab: destroy, create, site.yml"
timed tools/lab/down.sh >/dev/null
timed tools/lab/up.sh

step "site.yml again: nothing may change"
log="$LAB_DIR/logs/site-second-run.log"
ansible-playbook -i inventories/lab playbooks/site.yml | tee "$log" | tail -n 12
if grep -E '^[a-z0-9]+ +: ok=' "$log" | grep -vE 'changed=0 ' ; then
  echo "the second run of site.yml changed something (above)" >&2
  exit 1
fi

step "lab tests"
timed pytest -p no:cacheprovider --confcutdir=tests/lab -m lab -q tests/lab
echo "memory of the lab hosts:"
podman stats --no-stream --format "    {{.Name}} {{.MemUsage}}" | sort
free -m | sed 's/^/    /'

if [ "$KEEP" = 0 ]; then
  step "remove the lab"
  timed tools/lab/down.sh >/dev/null
fi
step "lab pipeline passed"
