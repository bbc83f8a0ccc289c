"""Client side of the compute RPC API (topic ``compute.<host>``).

Used by the conductor (build, reschedule) and by the API (power actions,
delete). Every method is a cast to one compute host; a host lives in a
cell whose message queue is the cell mapping's ``transport_url``, so
every method takes ``transport_url`` (None: ``[DEFAULT] transport_url``).
One :class:`~controlplane.rpc.RPCClient` is cached per URL.
"""
from controlplane.rpc import client_cache

TOPIC = "compute"


def get_client(transport_url=None, topic=TOPIC):
    """The cached RPCClient of ``topic`` on ``transport_url``."""
    return client_cache.get_client(topic, transport_url)


def reset_clients():
    """Forget cached clients (tests, after fork)."""
    client_cache.reset()


class ComputeAPI:
    """Casts to ``compute.<host>``.

    :param transport_url: default URL for methods not given one.
    """

    def __init__(self, transport_url=None):
        self.transport_url = transport_url

    def _cast(self, ctxt, host, method, transport_url=None, **kwargs):
        client = get_client(transport_url or self.transport_url)
        client.cast(ctxt, method, server=host, **kwargs)

    def build_and_run_instance(self, ctxt, host, instance_uuid, request_spec,
                               alternates=None, attempt=1, transport_url=None):
        """Build the instance on ``host`` (already claimed there).

        :param alternates: selections to try if this host fails.
        :param attempt: 1 for the first host, +1 per reschedule.
        """
        self._cast(ctxt, host, "build_and_run_instance", transport_url,
                   instance_uuid=instance_uuid, request_spec=request_spec,
                   alternates=list(alternates or []), attempt=attempt)

    def stop_instance(self, ctxt, host, instance_uuid, transport_url=None):
        """Power off (the API set task_state ``powering-off``)."""
        self._cast(ctxt, host, "stop_instance", transport_url, instance_uuid=instance_uuid)

    def start_instance(self, ctxt, host, instance_uuid, transport_url=None):
        """Power on (the API set task_state ``powering-on``)."""
        self._cast(ctxt, host, "start_instance", transport_url, instance_uuid=instance_uuid)

    def reboot_instance(self, ctxt, host, instance_uuid, reboot_type="SOFT",
                        transport_url=None):
        """Reboot, ``reboot_type`` ``SOFT`` or ``HARD`` (the API set task_state
        ``rebooting`` / ``rebooting_hard``)."""
        self._cast(ctxt, host, "reboot_instance", transport_url,
                   instance_uuid=instance_uuid, reboot_type=reboot_type)

    def attach_volume(self, ctxt, host, instance_uuid, volume_id, attachment_id, mountpoint,
                      transport_url=None):
        """Attach a volume the API reserved (attachment ``attachment_id``)
        at ``mountpoint``; see :mod:`controlplane.compute.volume_attach`."""
        self._cast(ctxt, host, "attach_volume", transport_url, instance_uuid=instance_uuid,
                   volume_id=volume_id, attachment_id=attachment_id, mountpoint=mountpoint)

    def detach_volume(self, ctxt, host, instance_uuid, volume_id, attachment_id,
                      transport_url=None):
        """Detach a volume the API moved to ``detaching``."""
        self._cast(ctxt, host, "detach_volume", transport_url, instance_uuid=instance_uuid,
                   volume_id=volume_id, attachment_id=attachment_id)

    def terminate_instance(self, ctxt, host, instance_uuid, transport_url=None):
        """Delete the instance (the API set task_state ``deleting``)."""
        self._cast(ctxt, host, "terminate_instance", transport_url,
                   instance_uuid=instance_uuid)
