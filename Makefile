# Shortcuts; the scripts under tools/ are what they run (and work without make).
.PHONY: lab lab-destroy lab-recovery up down test unit bench drills molecule
lab:
	tools/lab/up.sh
lab-destroy:
	tools/lab/down.sh
# Every role's molecule scenario (converge, idempotence, testinfra), 2 at a time.
molecule:
	tools/lab/ci.sh --molecule-only
# Disruptive lab tests (kill -9 of every service, standby, full outage,
# rolling restart); they print their times and append them to
# /var/lib/controlplane-lab/pacemaker-recovery.jsonl.
lab-recovery:
	env PYTEST_ADDOPTS= /var/lib/controlplane-lab/ansible-venv/bin/pytest -p no:cacheprovider -v -s \
	  --confcutdir=tests/lab -m lab tests/lab/test_pacemaker_recovery.py tests/lab/test_maintenance.py
up:
	tools/up.sh
down:
	$${CONTROLPLANE_DEV_DIR:-/var/lib/controlplane-dev}/venv/bin/python -m tools.stack down
	python3 -m tools.devenv down
test:
	tools/test.sh
unit:
	tools/test.sh tests/unit
bench:
	$${CONTROLPLANE_DEV_DIR:-/var/lib/controlplane-dev}/venv/bin/python bench/scheduler_bench.py
# Failover drills on the lab (docs/drills.md): make drills REPEAT=3 [DRILLS="partition ..."]
REPEAT ?= 1
drills:
	tools/drills/run.sh $(REPEAT) $(DRILLS)
