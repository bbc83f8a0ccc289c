"""A running controlplane service: RPC server, service record, heartbeat.

Follows Nova's ``nova.service.Service``:

* ``start()`` registers (or finds) the service's row in the ``services``
  table of its cell database (``[database] connection``) — conductor and
  scheduler too, so that ``openstack compute service list`` shows them —
  lets each endpoint recover (``init_host()``), runs the periodic tasks
  once, then consumes the RPC queues ``<topic>`` and ``<topic>.<host>``;
* a thread heartbeats every ``[DEFAULT] report_interval`` seconds
  (``last_seen_up``, ``report_count``), the DB servicegroup driver;
* periodic tasks (``endpoint.get_periodic_tasks()`` →
  ``[(interval, callable)]``) each run in a thread;
* ``stop()`` stops consuming and lets in-flight handlers finish (their
  messages are acked); :func:`run_service` does that on SIGTERM/SIGINT
  and returns exit code 0.

A compute service whose driver presents several nodes (``[fake_driver]
host_count``) serves each of them as a host: one ``services`` row and one
``compute.<node>`` queue per node (``hosts=[...]``), all consumed by one
RPC server (one broker connection).
"""
import logging
import signal
import threading

from controlplane.conf import CONF
from controlplane.db import engine as db_engine
from controlplane.db import services as services_db

LOG = logging.getLogger(__name__)


class Service:
    """One service process.

    :param binary: e.g. ``"controlplane-compute"``.
    :param topic: RPC topic, e.g. ``"compute"``.
    :param endpoints: manager objects whose public methods are RPC methods.
    :param host: this host (default ``CONF.host``).
    :param hosts: host names served (default ``[host]``); each gets a
        services row and a ``<topic>.<name>`` queue.
    :param transport_url: default ``CONF.transport_url``.
    :param engine: cell DB engine for the services rows (default
        ``[database] connection``).
    :param report_interval: heartbeat seconds (default
        ``CONF.report_interval``).
    :param rpc_server_factory: ``f(transport_url, topic, server, endpoints)``
        returning an object with ``start()/stop()/wait()`` (tests).
    """

    def __init__(self, binary, topic, endpoints, host=None, hosts=None,
                 transport_url=None, engine=None, report_interval=None,
                 rpc_server_factory=None):
        self.binary = binary
        self.topic = topic
        self.endpoints = list(endpoints)
        self.host = host or CONF.host
        self.hosts = list(hosts or [self.host])
        self.transport_url = transport_url or CONF.transport_url
        self._engine = engine
        self.report_interval = report_interval or CONF.report_interval
        self._rpc_server_factory = rpc_server_factory
        self.service_refs = {}
        self.rpc_servers = []
        self._threads = []
        self._stop = threading.Event()
        self.started = False

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db_engine.cell_engine()
        return self._engine

    def __repr__(self):
        return "<Service %s topic=%s hosts=%s>" % (self.binary, self.topic,
                                                  ",".join(self.hosts))

    # -- lifecycle -------------------------------------------------------------
    def start(self):
        """Register, recover, report, then consume. Returns when consuming."""
        for host in self.hosts:
            self.service_refs[host] = services_db.create_or_get_service(
                self.engine, host, self.binary, self.topic)
        LOG.info("%s registered in the services table (%s)", self.binary,
                 ", ".join("%s id=%s" % (h, r["id"]) for h, r in self.service_refs.items()))
        for endpoint in self.endpoints:
            init_host = getattr(endpoint, "init_host", None)
            if callable(init_host):
                init_host()
        periodic = []
        for endpoint in self.endpoints:
            getter = getattr(endpoint, "get_periodic_tasks", None)
            if callable(getter):
                periodic.extend(getter())
        for _, task in periodic:
            self._run_task(task)
        if self._rpc_server_factory is None and len(self.hosts) > 1:
            # one broker connection consumes the queues of every served host
            groups = [list(self.hosts)]
        else:
            groups = self.hosts
        for host in groups:
            server = self._make_rpc_server(host)
            server.start()
            self.rpc_servers.append(server)
        self._spawn(self._heartbeat_loop, "heartbeat")
        for interval, task in periodic:
            self._spawn(self._periodic_loop, "periodic-%s" % getattr(task, "__name__", "task"),
                        interval, task)
        self.started = True
        LOG.info("%s started on topic %s for host(s) %s", self.binary, self.topic,
                 ", ".join(self.hosts))

    def _make_rpc_server(self, host):
        if self._rpc_server_factory is not None:
            return self._rpc_server_factory(self.transport_url, self.topic, host,
                                            self.endpoints)
        from controlplane.rpc import RPCServer
        return RPCServer(self.transport_url, self.topic, host, self.endpoints)

    def _spawn(self, target, name, *args):
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self):
        """Stop consuming; in-flight handlers finish and are acked."""
        if self._stop.is_set():
            return
        LOG.info("%s stopping: no new messages, waiting for running handlers", self.binary)
        self._stop.set()
        for server in self.rpc_servers:
            try:
                server.stop()
            except Exception:  # noqa: BLE001
                LOG.exception("stopping %r failed", server)

    def wait(self, timeout=30.0):
        """Block until the RPC servers and threads have ended."""
        for server in self.rpc_servers:
            server.wait(timeout)
        for thread in self._threads:
            thread.join(timeout)
        LOG.info("%s stopped", self.binary)

    # -- background work ---------------------------------------------------------
    def report_state(self):
        """One heartbeat of every served host (one transaction for all of
        them); re-registers a host whose row was deleted (``openstack
        compute service delete``)."""
        refs = list(self.service_refs.items())
        try:
            rows = services_db.heartbeat_many(self.engine, [ref["uuid"] for _, ref in refs])
        except Exception:  # noqa: BLE001 - DB down: try again next interval
            LOG.exception("heartbeat of %s on %s failed", self.binary,
                          ", ".join(host for host, _ in refs))
            return
        for host, ref in refs:
            row = rows.get(ref["uuid"])
            if row is not None:
                self.service_refs[host] = row
                continue
            LOG.warning("service row of %s on %s was deleted; registering again",
                        self.binary, host)
            try:
                self.service_refs[host] = services_db.create_or_get_service(
                    self.engine, host, self.binary, self.topic)
            except Exception:  # noqa: BLE001 - DB down: try again next interval
                LOG.exception("registering %s on %s again failed", self.binary, host)

    def _heartbeat_loop(self):
        while not self._stop.wait(self.report_interval):
            self.report_state()

    def _run_task(self, task):
        try:
            task()
        except Exception:  # noqa: BLE001
            LOG.exception("periodic task %s failed", getattr(task, "__name__", task))

    def _periodic_loop(self, interval, task):
        while not self._stop.wait(interval):
            self._run_task(task)


def run_service(service, stop_event=None):
    """Run ``service`` until SIGTERM or SIGINT, then stop it gracefully.

    :param stop_event: a ``threading.Event`` that also stops the service
        (tests); signal handlers are only installed in the main thread.
    :returns: process exit code (0 after a clean stop, 1 if start failed).
    """
    stop_event = stop_event or threading.Event()

    def _on_signal(signum, _frame):
        LOG.info("received %s; stopping %s", signal.Signals(signum).name, service.binary)
        stop_event.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    try:
        service.start()
    except Exception:  # noqa: BLE001
        LOG.exception("%s failed to start", service.binary)
        service.stop()
        return 1
    while not stop_event.wait(1.0):
        pass
    service.stop()
    service.wait()
    return 0
