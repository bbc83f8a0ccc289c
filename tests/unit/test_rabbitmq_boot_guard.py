"""roles/rabbitmq's boot guard (templates/rabbitmq-boot-guard.sh.j2), the
ExecStartPre that decides how a RabbitMQ node starts under Pacemaker.

The template is rendered with Jinja2 for a three-node cluster whose peers'
AMQP port is on 127.0.0.1 (open or closed), and run with bash; ``crm_node``
and ``rabbitmqctl`` are stubs on PATH that log their calls. Checked, for
the case where every node went down: a peer serving AMQP → start (exit 0);
the first node of the partition → ``rabbitmqctl force_boot``, start; any
other node → refuse (exit 1) while the outage's first refusal is less than
``rabbitmq_boot_guard_defer_max`` old, then start; a start that goes on
clears the refusal time, so the next outage defers again.
"""
import os
import socket
import subprocess
import time
from pathlib import Path

import jinja2
import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "roles/rabbitmq/templates/rabbitmq-boot-guard.sh.j2"
NODES = ["ctl1", "ctl2", "ctl3"]
DEFER_MAX = 120


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def guard(tmp_path):
    """``run(node, partition)`` → CompletedProcess of the guard on ``node``,
    with ``crm_node -p`` printing ``partition``; ``.port`` is the peers'
    AMQP port, ``.state`` the refusal-time file, ``.calls`` the stubs' log."""
    port = _free_port()
    state = tmp_path / "deferred"
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("crm_node", 'echo "$PARTITION"'), ("rabbitmqctl", "")):
        stub = bin_dir / name
        stub.write_text('#!/bin/bash\necho "%s $*" >> %s\n%s\n' % (name, calls, body))
        stub.chmod(0o755)
    mnesia = tmp_path / "mnesia"

    def run(node, partition=" ".join(NODES)):
        (mnesia / ("rabbit@" + node)).mkdir(parents=True, exist_ok=True)
        script = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
            TEMPLATE.read_text()).render(
            ansible_managed="test", inventory_hostname=node, rabbitmq_boot_guard_order=NODES,
            hostvars={n: {"controlplane_address": "127.0.0.1"} for n in NODES},
            rabbitmq_port=port, rabbitmq_mnesia_base=str(mnesia),
            rabbitmq_boot_guard_state_file=str(state), rabbitmq_boot_guard_defer_max=DEFER_MAX,
            rabbitmq_boot_guard_probe_timeout=2)
        env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]), PARTITION=partition)
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                              timeout=60)

    run.port, run.state, run.calls = port, state, calls
    return run


def test_boots_normally_when_a_peer_serves_amqp(guard):
    with socket.socket() as peer:
        peer.bind(("127.0.0.1", guard.port))
        peer.listen()
        res = guard("ctl2")
    assert res.returncode == 0, res.stdout
    assert "serves AMQP" in res.stdout
    assert not guard.calls.exists()       # neither crm_node nor force_boot


def test_first_node_of_the_partition_force_boots(guard):
    res = guard("ctl2", partition="ctl2 ctl3")  # ctl1 is not in the partition
    assert res.returncode == 0, res.stdout
    assert "rabbitmqctl force_boot" in guard.calls.read_text()


def test_other_node_refuses_then_starts_after_defer_max(guard):
    res = guard("ctl2")
    assert res.returncode == 1, res.stdout
    first_refusal = int(guard.state.read_text())
    assert guard("ctl3").returncode == 1   # still within defer_max: refused again
    assert int(guard.state.read_text()) == first_refusal  # counted from the first refusal
    assert "force_boot" not in guard.calls.read_text()
    guard.state.write_text("%d\n" % (time.time() - DEFER_MAX - 1))
    res = guard("ctl2")
    assert res.returncode == 0, res.stdout
    assert "booting normally and waiting" in res.stdout


def test_a_start_that_goes_on_clears_the_refusal_time(guard):
    assert guard("ctl2").returncode == 1
    assert guard.state.exists()
    with socket.socket() as peer:         # the first node came up
        peer.bind(("127.0.0.1", guard.port))
        peer.listen()
        assert guard("ctl2").returncode == 0
    assert not guard.state.exists()
    assert guard("ctl2").returncode == 1  # a later outage defers again
