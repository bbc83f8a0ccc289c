"""Recovery drills of the Pacemaker-owned control plane (DISRUPTIVE: run
them under the lab lock, `flock /work/lab.lock ...`).

1. kill -9 of each service on one controller (Galera's mysqld_safe and
   mariadbd, RabbitMQ's beam, api, conductor, scheduler): Pacemaker sees
   the failure in a monitor and restarts the instance there.
2. standby of the controller holding the VIP: the VIP moves, the clones
   stop there, and the API keeps answering through the VIP.
3. every controller stopped at once (podman stop, systemd's shutdown cut
   short after 10 s) and started again: the galera agent bootstraps from
   the most advanced node by itself, RabbitMQ's nodes find each other,
   the API serves again and every server listed before the stop is still
   listed.

Times are printed and appended to pacemaker_lab.TIMES_FILE (JSON lines),
never asserted.

    flock /work/lab.lock env PYTEST_ADDOPTS= /var/lib/controlplane-lab/ansible-venv/bin/pytest \\
        -p no:cacheprovider --confcutdir=tests/lab -m lab tests/lab/test_pacemaker_recovery.py -v -s
"""
import json
import subprocess
import threading
import time

import pytest

from tests.lab import pacemaker_lab as pl

pytestmark = pytest.mark.lab

VICTIM = "ctl2"


@pytest.fixture(scope="module")
def settled(lab):
    pl.wait_settled(timeout=600)
    yield
    pl.wait_settled(timeout=600)


def _failcount(resource, node):
    rc, out = pl.sh(node, "crm_failcount --query --resource %s --node %s --quiet" % (resource, node))
    try:
        return int(out.strip().splitlines()[-1]) if rc == 0 else 0
    except (ValueError, IndexError):
        return 0


def _cleanup(resource, node):
    pl.sh(node, "crm_resource --cleanup --resource %s --node %s" % (resource, node))


def _api_answers(node):
    status, _ = pl.http_status("http://%s:8774/" % pl.ADDRESSES[node])
    return status == 200


def _rabbit_up(node):
    rc, out = pl.sh(node, "rabbitmqctl cluster_status --formatter json 2>/dev/null", timeout=30)
    return rc == 0 and len(json.loads(out)["running_nodes"]) == 3


def _instance_started(clone, node):
    return pl.crm_status().get(clone, {}).get(node) in ("Started", "Promoted")


KILLS = {
    # service: (resource, kill command, "recovered" check)
    "galera": ("galera", "pkill -9 -x mysqld_safe; pkill -9 -x mariadbd",
               lambda: pl.galera_state(VICTIM) == "3 Primary Synced"
               and pl.crm_status()["galera-clone"].get(VICTIM) == "Promoted"),
    "rabbitmq": ("rabbitmq", "pkill -9 -f beam.smp",
                 lambda: _rabbit_up(VICTIM) and _instance_started("rabbitmq-clone", VICTIM)),
    "api": ("cp-api", "kill -9 -- -$(head -1 /run/controlplane/controlplane-api.pid)",
            lambda: _api_answers(VICTIM) and _instance_started("cp-api-clone", VICTIM)),
    "conductor": ("cp-conductor", "kill -9 -- -$(head -1 /run/controlplane/controlplane-conductor.pid)",
                  lambda: _instance_started("cp-conductor-clone", VICTIM)),
    "scheduler": ("cp-scheduler", "kill -9 -- -$(head -1 /run/controlplane/controlplane-scheduler.pid)",
                  lambda: _instance_started("cp-scheduler-clone", VICTIM)),
}


@pytest.mark.parametrize("service", list(KILLS))
def test_kill_9_is_restarted_by_pacemaker(settled, service):
    resource, kill, recovered = KILLS[service]
    _cleanup(resource, VICTIM)
    before = _failcount(resource, VICTIM)
    t0 = time.monotonic()
    pl.sh(VICTIM, kill)
    detected = pl.wait_for(lambda: _failcount(resource, VICTIM) > before, timeout=120, step=0.5)
    pl.wait_for(recovered, timeout=600, step=1)
    total = time.monotonic() - t0
    pl.record("kill-9", service=service, node=VICTIM, detected_s=detected, recovered_s=total)
    _cleanup(resource, VICTIM)
    pl.wait_settled(timeout=600)


def test_standby_moves_resources_and_api_keeps_answering(settled):
    (holder,) = pl.crm_status()["vip"]
    tok, compute = pl.token()
    failures, longest, gap_start, stop = [], [0.0], [None], threading.Event()

    def probe():
        while not stop.is_set():
            status, _ = pl.http_status(compute + "/flavors", token=tok, timeout=3)
            now = time.monotonic()
            if status != 200:
                failures.append(status)
                gap_start[0] = gap_start[0] or now
            elif gap_start[0] is not None:
                longest[0] = max(longest[0], now - gap_start[0])
                gap_start[0] = None
            time.sleep(0.2)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    t0 = time.monotonic()
    pl.sh("ctl1", "crm_attribute --node %s --name standby --update on" % holder)
    try:
        moved = pl.wait_for(lambda: list(pl.crm_status().get("vip", {})) not in ([], [holder]), 120)
        stopped = pl.wait_for(lambda: all(holder not in pl.crm_status().get(c, {}) for c in
                                          ("galera-clone", "rabbitmq-clone", "cp-api-clone")), 300)
        time.sleep(5)
        stop.set()
        thread.join()
        new_holder = list(pl.crm_status()["vip"])[0]
        assert new_holder != holder
        assert all(pl.galera_state(n) == "2 Primary Synced" for n in pl.CONTROLLERS if n != holder)
        status, _ = pl.http_status(compute + "/flavors", token=tok)
        assert status == 200
    finally:
        stop.set()
        pl.sh("ctl1", "crm_attribute --node %s --name standby --delete" % holder)
    back = pl.wait_settled(timeout=600)
    pl.record("standby", node=holder, vip_moved_s=moved, resources_stopped_s=stopped,
              api_failed_probes=len(failures), api_longest_gap_s=longest[0],
              back_after_unstandby_s=back, total_s=time.monotonic() - t0)
    assert len(failures) <= 5, failures


def test_full_outage_recovers_by_itself(settled):
    before = pl.server_ids()
    assert before, "no server to check: site.yml boots lab-smoke"
    t0 = time.monotonic()
    subprocess.run(["podman", "stop", "-t", "10"] + list(pl.CONTROLLERS), check=True,
                   capture_output=True, timeout=120)
    stopped = time.monotonic() - t0
    t1 = time.monotonic()
    subprocess.run(["podman", "start"] + list(pl.CONTROLLERS), check=True,
                   capture_output=True, timeout=120)

    def api_serves():
        return pl.server_ids() == before
    api = pl.wait_for(api_serves, timeout=900, step=2)
    synced = pl.wait_for(pl.galera_synced_on_all, timeout=900, step=2)
    settled_s = pl.wait_settled(timeout=900)
    pl.record("full-outage", stop_s=stopped, api_serves_s=api, galera_synced_on_3_s=synced,
              all_resources_started_s=time.monotonic() - t1, servers=len(before))
    assert settled_s >= 0
    assert pl.server_ids() == before
