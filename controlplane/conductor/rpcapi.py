"""Client side of the conductor RPC API (topic ``conductor``).

The API casts ``schedule_and_build_instances``; compute hosts cast
``build_instances`` to reschedule a failed build.
"""
from controlplane.compute.rpcapi import get_client

TOPIC = "conductor"


class ConductorAPI:
    """:param transport_url: None for ``[DEFAULT] transport_url``."""

    def __init__(self, transport_url=None):
        self.transport_url = transport_url

    @property
    def client(self):
        return get_client(self.transport_url, TOPIC)

    def schedule_and_build_instances(self, ctxt, build_requests, request_specs):
        """Schedule and build servers that exist as build requests.

        :param build_requests: list of build request dicts
            (``instance_uuid``, ``project_id``, ``instance``: dict), as
            :func:`controlplane.db.build_requests.get_build_request` returns.
        :param request_specs: list of request spec dicts, same order.
        """
        self.client.cast(ctxt, "schedule_and_build_instances",
                         build_requests=list(build_requests),
                         request_specs=list(request_specs))

    def build_instances(self, ctxt, instance_uuid, request_spec, alternates, attempt):
        """Reschedule a build that failed on its host to the next alternate.

        :param attempt: number of the attempt about to be made (2 for the
            first reschedule).
        """
        self.client.cast(ctxt, "build_instances", instance_uuid=instance_uuid,
                         request_spec=request_spec, alternates=list(alternates or []),
                         attempt=attempt)

    def ping(self, ctxt, timeout=None):
        """Round trip through a conductor; returns ``"pong"``."""
        return self.client.call(ctxt, "ping", timeout=timeout)
