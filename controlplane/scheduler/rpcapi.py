"""Client side of the ``scheduler`` RPC topic (used by the conductor).

``SchedulerAPI(transport_url=None).select_destinations(ctxt, request_spec,
instance_uuids, return_alternates=True)`` is an RPC *call*: it returns
``[[selection, ...], ...]`` or raises the RPC layer's ``RemoteError`` with
``exc_type == "NoValidHost"`` when nothing fits.
"""
from controlplane.conf import CONF

TOPIC = "scheduler"


class SchedulerAPI:
    """RPC client of the scheduler.

    :param transport_url: RabbitMQ URL (default ``[DEFAULT] transport_url``).
    :param timeout: seconds a call waits (default ``rpc_response_timeout``).
    """

    def __init__(self, transport_url=None, timeout=None):
        from controlplane import rpc  # imported lazily: no broker needed to import this module
        self.client = rpc.RPCClient(transport_url or CONF.transport_url, TOPIC)
        self.timeout = timeout

    def select_destinations(self, ctxt, request_spec, instance_uuids, return_alternates=True):
        """Choose and claim hosts; see SchedulerManager.select_destinations."""
        return self.client.call(ctxt, "select_destinations", timeout=self.timeout,
                                request_spec=request_spec,
                                instance_uuids=list(instance_uuids or []),
                                return_alternates=return_alternates)

    def claim_alternate(self, ctxt, selection, instance_uuid):
        """Claim an alternate selection on a reschedule → bool."""
        return self.client.call(ctxt, "claim_alternate", timeout=self.timeout,
                                selection=selection, instance_uuid=instance_uuid)

    def release_claim(self, ctxt, instance_uuid, cell_uuid):
        """Release an instance's allocation in a cell → bool (idempotent)."""
        return self.client.call(ctxt, "release_claim", timeout=self.timeout,
                                instance_uuid=instance_uuid, cell_uuid=cell_uuid)

    def ping(self, ctxt, timeout=None):
        """``"pong"`` when a scheduler answers."""
        return self.client.call(ctxt, "ping", timeout=timeout or self.timeout)
