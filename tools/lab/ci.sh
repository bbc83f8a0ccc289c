#!/usr/bin/env bash
# The HA lab pipeline that CI runs after the Python suites:
#   1. the lab image (built once per run; molecule and the lab share it)
#   2. lint: yamllint and ansible-lint (production profile); the example
#      production inventory checked without machines
#      (tests/lab/test_inventory_example.py)
#   3. with --with-molecule (or LAB_CI_MOLECULE=1): molecule test (create,
#      converge, idempotence, testinfra verify, destroy) of the scenarios in
#      $LAB_CI_SCENARIOS, $LAB_CI_JOBS at a time (default 2), longest first;
#      each prints its time, then a summary; any failure fails the pipeline
#      (after the others finished). Not in CI's default run: it took 10 min
#      of the 60-minute budget, and steps 4-5 deploy and verify every one of
#      these roles together (a second run must change nothing). Default:
#        controlplane/stack galera rabbitmq pacemaker haproxy common memcached
#      controlplane/stack runs roles/keystone, roles/glance and
#      roles/controlplane on one node with the three roles' own verifiers:
#      the checks of their default scenarios with Galera/RabbitMQ/memcached
#      set up once instead of three times (those default scenarios stay for
#      running one role alone: cd roles/keystone && molecule test).
#   4. a fresh lab (tools/lab/up.sh), playbooks/site.yml twice: the second
#      run must report changed=0 on every host
#   5. the lab tests (tests/lab, testinfra)
#   6. every failover drill once (tools/drills/run.sh; docs/drills.md; a
#      drill that could not run or whose books do not balance fails CI
#      unless LAB_CI_DRILLS_STRICT=0; a missed timing target is only a
#      warning), and removal of the lab
# Every step prints its time; logs of the molecule runs (with per-task
# times, ansible.posix.profile_tasks) go to $LAB_DIR/logs/.
# Usage: tools/lab/ci.sh [--keep-lab] [--with-molecule] [--skip-molecule] [--molecule-only] [--skip-drills]
# (LAB_CI_KEEP=1 / LAB_CI_MOLECULE=1 / LAB_CI_DRILLS=0 in the environment:
# --keep-lab / --with-molecule / --skip-drills.) `make molecule` runs the
# molecule step alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
LAB_DIR="${LAB_DIR:-/var/lib/controlplane-lab}"
JOBS="${LAB_CI_JOBS:-2}"
SCENARIOS="${LAB_CI_SCENARIOS:-controlplane/stack galera rabbitmq pacemaker haproxy common memcached}"
KEEP="${LAB_CI_KEEP:-0}"; MOLECULE="${LAB_CI_MOLECULE:-0}"; LAB=1; DRILLS="${LAB_CI_DRILLS:-1}"
for arg in "$@"; do
  case "$arg" in
    --keep-lab) KEEP=1 ;;
    --with-molecule) MOLECULE=1 ;;
    --skip-molecule) MOLECULE=0 ;;
    --molecule-only) MOLECULE=1; LAB=0 ;;
    --skip-drills) DRILLS=0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
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

step "example production inventory (no machines)"
timed pytest -p no:cacheprovider --confcutdir=tests/lab -m lab -q tests/lab/test_inventory_example.py

if [ "$MOLECULE" = 1 ]; then
  step "wheelhouse (controlplane/stack installs from it)"
  timed tools/lab/wheelhouse.sh
  step "molecule: $SCENARIOS ($JOBS at a time)"
  results="$LAB_DIR/logs/molecule-results"
  : > "$results"
  # A scenario is ROLE (its default scenario) or ROLE/SCENARIO.
  scenario_dir() {
    local role=${1%%/*} name=default
    [ "$1" != "$role" ] && name=${1#*/}
    echo "roles/$role/molecule/$name"
  }
  for scenario in $SCENARIOS; do
    [ -f "$(scenario_dir "$scenario")/molecule.yml" ] || { echo "no molecule scenario $scenario" >&2; exit 2; }
  done
  run_one() {
    local dir log s rc=0 took load
    dir=$(scenario_dir "$1")
    log="$LAB_DIR/logs/molecule-${1//\//-}.log"
    s=$(date +%s)
    (cd "${dir%/molecule/*}" && ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
       molecule test -s "${dir##*/}") >"$log" 2>&1 || rc=$?
    took=$(( $(date +%s) - s ))
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ "$rc" = 0 ]; then
      echo "    molecule $1: passed in ${took}s (load $load)"
      echo "$1 passed $took" >> "$results"
    else
      echo "    molecule $1: FAILED in ${took}s (log $log)"
      tail -n 40 "$log" | sed 's/^/    | /'
      echo "$1 FAILED $took" >> "$results"
    fi
  }
  ms=$(date +%s)
  for scenario in $SCENARIOS; do
    run_one "$scenario" &
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 2; done
  done
  wait
  echo "    molecule summary ($JOBS at a time, $(( $(date +%s) - ms ))s in all):"
  sort -k3 -n -r "$results" | awk '{ printf "      %-22s %-7s %5ss\n", $1, $2, $3 }'
  failed=$(awk '$2 != "passed" { print $1 }' "$results" | tr '\n' ' ')
  if [ "$(wc -l < "$results")" -ne "$(echo $SCENARIOS | wc -w)" ] || [ -n "$failed" ]; then
    echo "molecule failed for: ${failed:-a scenario that reported nothing}" >&2
    exit 1
  fi
fi

if [ "$LAB" = 0 ]; then
  step "lab pipeline passed (molecule only)"
  exit 0
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
# The long disruptive lab tests (kill -9 of every service, standby, full
# outage: test_pacemaker_recovery.py; the rolling restart:
# test_maintenance.py) run with `make lab-recovery`, not here: together
# they take about 25 minutes, beyond the CI budget.
timed pytest -p no:cacheprovider --confcutdir=tests/lab -m lab -q tests/lab \
  --deselect tests/lab/test_inventory_example.py \
  --deselect tests/lab/test_pacemaker_recovery.py \
  --deselect tests/lab/test_maintenance.py
# Every drill of playbooks/drills/ against the lab (tools/drills/run.sh),
# with the summary table at the end. A missed downtime/recovery target is
# printed without failing CI (run.sh exits 3), as the timing of a loaded
# 2-core machine varies. A drill whose books do not balance (an acknowledged write lost, a
# duplicate, a stuck build or volume, quota != reality) or that could not
# run is printed as FAILED with its report and fails CI (an acknowledged
# write lost is a bug, not a slow machine); LAB_CI_DRILLS_STRICT=0 makes it
# a warning, e.g. to keep a lab for study. Strict since the 35 runs of
# session 9 (docs/drills.md) balanced their books every time.
if [ "$DRILLS" = 1 ]; then
  step "failover drills, each once"
  ds=$(date +%s); drills_rc=0
  env DRILLS_BATCH="ci-$(date -u +%Y%m%dT%H%M%SZ)" \
    DRILLS_EXTRA="-e drills_fail_on_missed_target=false -e drills_baseline_s=${LAB_CI_DRILL_BASELINE_S:-15} -e drills_outage_s=${LAB_CI_DRILL_OUTAGE_S:-20} -e drills_after_s=${LAB_CI_DRILL_AFTER_S:-15}" \
    tools/drills/run.sh 1 || drills_rc=$?
  echo "<== drills took $(( $(date +%s) - ds ))s (exit $drills_rc)"
  if [ "$drills_rc" = 3 ]; then
    echo "WARNING: a drill missed a downtime/recovery target (summary above); not fatal in CI"
  elif [ "$drills_rc" != 0 ]; then
    if [ "${LAB_CI_DRILLS_STRICT:-1}" = 1 ]; then
      echo "a drill failed: its books do not balance or it could not run (summary above)" >&2
      exit 1
    fi
    echo "WARNING: a drill failed (summary above); not fatal with LAB_CI_DRILLS_STRICT=0"
  fi
fi
echo "memory of the lab hosts:"
podman stats --no-stream --format "    {{.Name}} {{.MemUsage}}" | sort
free -m | sed 's/^/    /'

if [ "$KEEP" = 0 ]; then
  step "remove the lab"
  timed tools/lab/down.sh >/dev/null
fi
step "lab pipeline passed"
