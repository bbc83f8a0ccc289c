# Shortcuts; the scripts under tools/ are what they run (and work without make).
.PHONY: lab lab-destroy up down test unit bench
lab:
	tools/lab/up.sh
lab-destroy:
	tools/lab/down.sh
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
