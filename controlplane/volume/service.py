"""A running block-storage service: service rows, RPC servers, heartbeats,
periodic tasks (Cinder's ``cinder.service.Service``, on ``volume_services``).

``controlplane-volume`` serves one endpoint per backend: service row and
RPC server ``volume.<host>@<backend>`` each (Cinder registers each backend
as its own ``cinder-volume`` service ``host@backend``).
``controlplane-volume-scheduler`` serves one endpoint on
``volume-scheduler`` with the row of its host. Run with
:func:`controlplane.service.run_service` (SIGTERM → graceful stop).
"""
import logging

from controlplane import service
from controlplane.db import engine as db_engine
from controlplane.db import volume_services as db_services

LOG = logging.getLogger(__name__)


class VolumeService(service.Service):
    """One service process; the lifecycle (periodic threads, graceful
    ``stop``/``wait``) is :class:`controlplane.service.Service`'s, the rows
    live in ``volume_services`` of the API database and each endpoint gets
    its own RPC server.

    :param binary: ``controlplane-volume`` or ``controlplane-volume-scheduler``.
    :param topic: ``volume`` or ``volume-scheduler``.
    :param endpoints: ``{server name: endpoint}``; each server name is a
        ``volume_services`` host and the RPC server (routing key
        ``<topic>.<server>``).
    :param zones: ``{server name: availability zone}`` recorded on the rows.
    :param rpc_server_factory: ``f(transport_url, topic, server, endpoints)``.
    """

    def __init__(self, binary, topic, endpoints, zones=None, transport_url=None,
                 engine=None, report_interval=None, rpc_server_factory=None):
        self.endpoint_by_server = dict(endpoints)
        super().__init__(binary, topic, list(self.endpoint_by_server.values()),
                         hosts=list(self.endpoint_by_server) or None,
                         transport_url=transport_url, engine=engine,
                         report_interval=report_interval,
                         rpc_server_factory=rpc_server_factory)
        self.zones = dict(zones or {})

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db_engine.api_engine()
        return self._engine

    def _register(self, server):
        return db_services.create_or_get_service(
            self.engine, server, self.binary, topic="%s.%s" % (self.topic, server),
            availability_zone=self.zones.get(server))

    def start(self):
        """Register, recover (``init_host``), run periodic tasks once, consume."""
        for server in self.endpoint_by_server:
            self._register(server)
        periodic = []
        for endpoint in self.endpoint_by_server.values():
            init_host = getattr(endpoint, "init_host", None)
            if callable(init_host):
                init_host()
            getter = getattr(endpoint, "get_periodic_tasks", None)
            if callable(getter):
                periodic.extend(getter())
        for _, task in periodic:
            self._run_task(task)
        for server, endpoint in self.endpoint_by_server.items():
            rpc_server = self._make_server(server, endpoint)
            rpc_server.start()
            self.rpc_servers.append(rpc_server)
        self._spawn(self._heartbeat_loop, "heartbeat")
        for interval, task in periodic:
            self._spawn(self._periodic_loop, "periodic", interval, task)
        self.started = True
        LOG.info("%s serving %s on topic %s", self.binary,
                 ", ".join(self.endpoint_by_server), self.topic)

    def _make_server(self, server, endpoint):
        if self._rpc_server_factory is not None:
            return self._rpc_server_factory(self.transport_url, self.topic, server,
                                            [endpoint])
        from controlplane.rpc import RPCServer
        return RPCServer(self.transport_url, self.topic, server, [endpoint])

    def report_state(self):
        """Heartbeat every served row; register again a deleted one. A
        database error is logged and the next interval tries again."""
        try:
            alive = set(db_services.heartbeat(self.engine, list(self.endpoint_by_server),
                                              self.binary))
            for server in self.endpoint_by_server:
                if server not in alive:
                    LOG.warning("service row %s %s was deleted; registering again",
                                self.binary, server)
                    self._register(server)
        except Exception:  # noqa: BLE001 - DB down: try next time
            LOG.exception("heartbeat of %s failed", self.binary)
