"""Client side of the volume scheduler (topic ``volume-scheduler``),
Cinder's ``scheduler/rpcapi.py``.

``create_volume`` is a cast: the scheduler filters and weighs the pools,
claims capacity on the chosen one in the database and casts
``create_volume`` to that backend; when nothing fits it sets the volume to
``error`` ("No valid backend was found").
"""
from controlplane.rpc import client_cache

TOPIC = "volume-scheduler"


def get_client(transport_url=None):
    """The cached RPCClient of topic ``volume-scheduler`` on ``transport_url``."""
    return client_cache.get_client(TOPIC, transport_url)


def reset_clients():
    """Forget cached clients (tests, after fork)."""
    client_cache.reset()


class SchedulerAPI:
    """RPC client of ``controlplane-volume-scheduler``.

    :param transport_url: RabbitMQ URL (default ``[DEFAULT] transport_url``).
    :param timeout: seconds a call waits.
    """

    def __init__(self, transport_url=None, timeout=None):
        self.transport_url = transport_url
        self.timeout = timeout

    def create_volume(self, ctxt, request_spec, filter_properties=None, glance_auth=None):
        """Schedule a volume in ``creating``.

        :param request_spec: ``{"volume_id", "size", "project_id",
            "availability_zone", "volume_type": {"id", "name",
            "extra_specs"}, "snapshot_id", "source_volid", "image_id",
            "volume_properties": {...}}``. A volume from a snapshot or a
            clone goes to its source's backend.
        :param filter_properties: ``{"scheduler_hints": {...}, "retry":
            {"num_attempts", "backends": [...], "exc"}}`` (retry set by a
            reschedule from the volume service).
        :param glance_auth: passed on to the backend for a volume from an
            image; default: taken from ``ctxt`` when the spec has an image.
        """
        if glance_auth is None and request_spec.get("image_id"):
            from controlplane.volume.rpcapi import glance_auth as _auth
            glance_auth = _auth(ctxt)
        get_client(self.transport_url).cast(
            ctxt, "create_volume", request_spec=request_spec,
            filter_properties=dict(filter_properties or {}), glance_auth=glance_auth)

    def ping(self, ctxt, timeout=None):
        """``"pong"`` when a scheduler answers."""
        return get_client(self.transport_url).call(ctxt, "ping",
                                                   timeout=timeout or self.timeout)
