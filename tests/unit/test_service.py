"""Service: registration per host, init/periodic hooks, heartbeat, stop."""
import threading

from controlplane import log
from controlplane.db import services as svc_db
from controlplane.service import Service, run_service


class FakeServer:
    def __init__(self, url, topic, server, endpoints):
        self.topic, self.server, self.endpoints = topic, server, endpoints
        self.started = self.stopped = self.waited = False

    def start(self):
        self.started = True

    def stop(self):
        self.stopped = True

    def wait(self, timeout=None):
        self.waited = True


class Endpoint:
    def __init__(self):
        self.inited = 0
        self.ran = 0

    def init_host(self):
        self.inited += 1

    def tick(self):
        self.ran += 1

    def get_periodic_tasks(self):
        return [(3600, self.tick)]


def _service(engine, hosts=None, endpoint=None):
    servers = []

    def factory(*args):
        servers.append(FakeServer(*args))
        return servers[-1]
    svc = Service(svc_db.COMPUTE_BINARY, "compute", [endpoint or Endpoint()], host="cmp",
                  hosts=hosts, transport_url="rabbit://x/", engine=engine,
                  rpc_server_factory=factory)
    return svc, servers


def test_start_registers_each_host_and_serves_its_queue(engine):
    ep = Endpoint()
    svc, servers = _service(engine, hosts=["cmp", "cmp-1"], endpoint=ep)
    svc.start()
    try:
        assert [s["host"] for s in svc_db.list_services(engine)] == ["cmp", "cmp-1"]
        assert [(s.topic, s.server, s.started) for s in servers] == \
            [("compute", "cmp", True), ("compute", "cmp-1", True)]
        assert ep.inited == 1 and ep.ran == 1  # periodic task runs once at start
    finally:
        svc.stop()
        svc.wait(5)
    assert all(s.stopped and s.waited for s in servers)


def test_restart_reuses_the_service_row(engine):
    svc, _ = _service(engine)
    svc.start()
    uuid = svc.service_refs["cmp"]["uuid"]
    svc.stop()
    svc.wait(5)
    svc2, _ = _service(engine)
    svc2.start()
    assert svc2.service_refs["cmp"]["uuid"] == uuid
    svc2.stop()
    svc2.wait(5)


def test_report_state_heartbeats_and_reregisters(engine):
    svc, _ = _service(engine)
    svc.start()
    try:
        svc.report_state()
        row = svc_db.get_service(engine, svc.service_refs["cmp"]["uuid"])
        assert row["report_count"] == 1 and row["up"]
        svc_db.delete_service(engine, row["id"])
        svc.report_state()
        assert len(svc_db.list_services(engine, host="cmp")) == 1
    finally:
        svc.stop()
        svc.wait(5)


def test_run_service_stops_gracefully(engine):
    svc, servers = _service(engine)
    stop = threading.Event()
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("rc", run_service(svc, stop)))
    t.start()
    stop.set()
    t.join(10)
    assert result["rc"] == 0 and servers[0].stopped


def test_run_service_start_failure_is_exit_1(engine):
    class Broken(Endpoint):
        def init_host(self):
            raise RuntimeError("boom")
    svc, _ = _service(engine, endpoint=Broken())
    assert run_service(svc, threading.Event()) == 1


def test_log_lines_carry_request_id(conf, capsys):
    import logging
    from controlplane.context import RequestContext
    log.setup_logging(conf)
    ctxt = RequestContext()
    with log.request_context(ctxt):
        logging.getLogger("controlplane.test").info("inside")
    logging.getLogger("controlplane.test").info("outside")
    err = capsys.readouterr().err
    assert "[%s] inside" % ctxt.request_id in err
    assert "[-] outside" in err
    for h in list(logging.getLogger().handlers):
        if getattr(h, "_controlplane", False):
            logging.getLogger().removeHandler(h)
