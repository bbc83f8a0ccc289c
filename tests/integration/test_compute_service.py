"""controlplane-compute as a real process: registers a service row per
node, reports compute_nodes, heartbeats, and exits 0 on SIGTERM. Also the
restart recovery of ComputeManager.init_host on MariaDB."""
import os
import signal
import subprocess
import sys
import time
import uuid as uuidlib

import pytest

from controlplane.compute.fake import FakeDriver
from controlplane.compute.manager import ComputeManager
from controlplane.db import compute_nodes as cn_db
from controlplane.db import engine as db_engine
from controlplane.db import instances as inst_db
from controlplane.db import services as svc_db

pytestmark = pytest.mark.integration


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in %s s" % timeout)


def test_compute_process_registers_reports_and_stops_on_sigterm(
        tmp_path, conf, api_db, cell_db, rabbit_url):
    host = "cmp" + uuidlib.uuid4().hex[:6]
    cfg = tmp_path / "controlplane.conf"
    log_file = tmp_path / "compute.log"
    cfg.write_text(
        "[DEFAULT]\nhost = %s\ntransport_url = %s\nreport_interval = 1\n"
        "log_file = %s\ndebug = true\n"
        "[database]\nconnection = %s\n[api_database]\nconnection = %s\n"
        "[fake_driver]\nhost_count = 2\nvcpus = 8\n" % (host, rabbit_url, log_file,
                                                       cell_db, api_db))
    proc = subprocess.Popen([sys.executable, "-m", "controlplane.cmd.compute",
                             "--config-file", str(cfg)],
                            env=dict(os.environ, PYTHONPATH=os.getcwd()))
    try:
        engine = db_engine.cell_engine()

        def heartbeating():
            rows = [s for s in svc_db.list_services(engine) if s["report_count"] >= 1]
            return rows if len(rows) == 2 else None
        rows = _wait(heartbeating)
        assert sorted(s["host"] for s in rows) == [host, host + "-1"]
        assert all(s["up"] and s["topic"] == "compute" for s in rows)
        nodes = cn_db.get_compute_nodes(engine)
        assert sorted(n["host"] for n in nodes) == [host, host + "-1"]
        assert all(n["vcpus"] == 8 and n["vcpus_used"] == 0 for n in nodes)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log_file.read_text()
    assert "received SIGTERM" in text and "[-]" in text


def test_restart_recovery(conf, cell_db, monkeypatch):
    engine = db_engine.cell_engine()
    host = "cmp" + uuidlib.uuid4().hex[:6]
    released = []
    monkeypatch.setattr("controlplane.compute.manager.cn_db.release",
                        lambda eng, uuid: released.append(uuid) or True)

    def make(uuid, **kw):
        values = {"uuid": uuid, "project_id": "p", "user_id": "u", "host": host,
                  "node": host, "flavor": {"vcpus": 1}, "vm_state": "active",
                  "task_state": None}
        values.update(kw)
        inst_db.create_instance(engine, values)
    make("spawning-1", vm_state="building", task_state="spawning")
    make("deleting-1", task_state="deleting")
    make("rebooting-1", task_state="rebooting")
    make("active-1")
    mgr = ComputeManager(host=host, driver=FakeDriver(host=host), engine=engine,
                         conductor_api=object(), cells_db=type(
                             "C", (), {"queue_instance_mapping_for_delete":
                                       staticmethod(lambda u: True)})())
    mgr.init_host()
    assert inst_db.get_instance(engine, "spawning-1")["vm_state"] == "error"
    assert inst_db.get_instance(engine, "deleting-1", read_deleted="yes")["deleted"]
    reb = inst_db.get_instance(engine, "rebooting-1")
    assert (reb["vm_state"], reb["task_state"]) == ("active", None)
    assert mgr.driver.get_info({"uuid": "active-1"}) == 1  # re-adopted, RUNNING
    assert set(released) == {"spawning-1", "deleting-1"}
