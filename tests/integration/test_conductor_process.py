"""controlplane-conductor and controlplane-scheduler as real processes:
they answer ping over RabbitMQ, appear in the services table and exit 0
on SIGTERM."""
import os
import signal
import subprocess
import sys
import time

import pytest

from controlplane import rpc
from controlplane.conductor.rpcapi import ConductorAPI
from controlplane.context import RequestContext
from controlplane.db import engine as db_engine
from controlplane.db import services as svc_db
from controlplane.scheduler.rpcapi import SchedulerAPI

pytestmark = pytest.mark.integration


def test_conductor_and_scheduler_processes(tmp_path, conf, api_db, cell_db, rabbit_url):
    cfg = tmp_path / "controlplane.conf"
    cfg.write_text("[DEFAULT]\nhost = ctl-test\ntransport_url = %s\n"
                   "[database]\nconnection = %s\n[api_database]\nconnection = %s\n"
                   % (rabbit_url, cell_db, api_db))
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    procs = [subprocess.Popen([sys.executable, "-m", "controlplane.cmd.%s" % name,
                               "--config-file", str(cfg)], env=env)
             for name in ("conductor", "scheduler")]
    try:
        ctxt = RequestContext()
        deadline = time.monotonic() + 30
        while True:
            try:
                assert ConductorAPI().ping(ctxt, timeout=2) == "pong"
                assert SchedulerAPI().ping(ctxt, timeout=2) == "pong"
                break
            except (rpc.MessagingTimeout, rpc.MessageUndeliverable):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        binaries = {s["binary"] for s in svc_db.list_services(db_engine.cell_engine(),
                                                              host="ctl-test")}
        assert binaries == {svc_db.CONDUCTOR_BINARY, svc_db.SCHEDULER_BINARY}
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=30) for p in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        rpc.cleanup_transports()
