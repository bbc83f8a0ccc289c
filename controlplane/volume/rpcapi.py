"""Client side of the volume service RPC API (Cinder's ``volume/rpcapi.py``).

Each backend served by ``controlplane-volume`` consumes its own queue:
topic ``volume``, server ``<hostname>@<backend>`` (routing key
``volume.<hostname>@<backend>``). A volume's ``host`` is
``hostname@backend#pool``; :func:`backend_of` strips the pool. Casts return
once the broker confirmed the message; calls return the manager's result
or raise ``controlplane.rpc.RemoteError`` (``exc_type`` the manager's
exception class name, e.g. ``VolumeInvalidState``).

Casts: ``create_volume``, ``delete_volume``, ``extend_volume``,
``create_snapshot``, ``delete_snapshot``, ``upload_to_image``.
Calls: ``initialize_connection`` → connection_info, ``attach_volume``,
``detach_volume``, ``terminate_connection``, ``ping``.
"""
from controlplane.rpc import client_cache

TOPIC = "volume"


def backend_of(host):
    """``hostname@backend`` of ``hostname@backend#pool`` (Cinder's
    ``extract_host(host, 'backend')``); raises ValueError for None/empty."""
    if not host:
        raise ValueError("the volume has no host (it was never scheduled)")
    return host.partition("#")[0]


def glance_auth(ctxt):
    """What a volume service needs to talk to Glance as the user:
    ``{"token", "catalog", "project_id"}`` from the request context (the
    RPC context leaves the token out, so image operations carry it
    explicitly, as Cinder's context does), or None without a token."""
    token = getattr(ctxt, "auth_token", None)
    if not token:
        return None
    return {"token": token, "catalog": list(getattr(ctxt, "service_catalog", None) or []),
            "project_id": getattr(ctxt, "project_id", None)}


def get_client(transport_url=None):
    """The cached RPCClient of topic ``volume`` on ``transport_url``."""
    return client_cache.get_client(TOPIC, transport_url)


def reset_clients():
    """Forget cached clients (tests, after fork)."""
    client_cache.reset()


def _host(vol_or_host):
    if isinstance(vol_or_host, dict):
        return backend_of(vol_or_host.get("host"))
    return backend_of(vol_or_host)


class VolumeAPI:
    """RPC client of the volume service.

    Every method takes the volume dict (or, for ``create_volume``, the
    chosen pool name) and sends to the backend in its ``host``.
    :param transport_url: RabbitMQ URL (default ``[DEFAULT] transport_url``).
    :param timeout: seconds a call waits (default ``rpc_response_timeout``).
    """

    def __init__(self, transport_url=None, timeout=None):
        self.transport_url = transport_url
        self.timeout = timeout

    def _client(self):
        return get_client(self.transport_url)

    def _cast(self, ctxt, vol_or_host, method, **kwargs):
        self._client().cast(ctxt, method, server=_host(vol_or_host), **kwargs)

    def _call(self, ctxt, vol_or_host, method, timeout=None, **kwargs):
        return self._client().call(ctxt, method, server=_host(vol_or_host),
                                   timeout=timeout or self.timeout, **kwargs)

    # -- casts -------------------------------------------------------------
    def create_volume(self, ctxt, host, volume_id, request_spec, filter_properties,
                      glance_auth=None):
        """Create a volume the scheduler placed (and claimed) on pool ``host``
        (``hostname@backend#pool``). ``filter_properties["retry"]`` carries
        the attempt count and the backends tried (Cinder's retry dict);
        ``glance_auth`` (see :func:`glance_auth`) lets the backend read the
        image of a volume from an image."""
        self._cast(ctxt, host, "create_volume", volume_id=volume_id, host=host,
                   request_spec=request_spec, filter_properties=filter_properties,
                   glance_auth=glance_auth)

    def delete_volume(self, ctxt, vol, cascade=False):
        """Delete a volume the API moved to ``deleting`` (with its snapshots
        when ``cascade``)."""
        self._cast(ctxt, vol, "delete_volume", volume_id=vol["id"], cascade=bool(cascade))

    def extend_volume(self, ctxt, vol, new_size):
        """Grow a volume in ``extending`` (``pending_size`` set by
        ``volume_quotas.begin_extend_within_quota``) to ``new_size`` GiB."""
        self._cast(ctxt, vol, "extend_volume", volume_id=vol["id"], new_size=int(new_size))

    def create_snapshot(self, ctxt, vol, snap):
        """Create the data of snapshot ``snap`` (status ``creating``)."""
        self._cast(ctxt, vol, "create_snapshot", volume_id=vol["id"], snapshot_id=snap["id"])

    def delete_snapshot(self, ctxt, vol, snap):
        """Delete snapshot ``snap`` (status ``deleting``)."""
        self._cast(ctxt, vol, "delete_snapshot", volume_id=vol["id"], snapshot_id=snap["id"])

    def upload_to_image(self, ctxt, vol, image_id, image_meta):
        """Upload a volume in ``uploading`` to the Glance image ``image_id``
        (already created by the API, status ``queued``); ``image_meta`` has
        ``disk_format`` and ``container_format``."""
        self._cast(ctxt, vol, "upload_to_image", volume_id=vol["id"], image_id=image_id,
                   image_meta=dict(image_meta or {}), glance_auth=glance_auth(ctxt))

    # -- calls -------------------------------------------------------------
    def initialize_connection(self, ctxt, vol, connector):
        """Export the volume to ``connector`` (``{"host", "initiator"...}``);
        returns connection_info ``{"driver_volume_type", "data": {...}}``."""
        return self._call(ctxt, vol, "initialize_connection", volume_id=vol["id"],
                          connector=connector or {})

    def terminate_connection(self, ctxt, vol, connector, force=False):
        """Stop exporting the volume to ``connector``."""
        return self._call(ctxt, vol, "terminate_connection", volume_id=vol["id"],
                          connector=connector or {}, force=bool(force))

    def attach_volume(self, ctxt, vol, attachment_id, instance_uuid, host, mountpoint):
        """Record the attach as done: attachment ``attached``, volume
        ``in-use``; returns the attachment dict."""
        return self._call(ctxt, vol, "attach_volume", volume_id=vol["id"],
                          attachment_id=attachment_id, instance_uuid=instance_uuid,
                          host_name=host, mountpoint=mountpoint)

    def detach_volume(self, ctxt, vol, attachment_id):
        """Record the detach: attachment gone, volume ``available`` when it
        was the last one; returns the volume dict."""
        return self._call(ctxt, vol, "detach_volume", volume_id=vol["id"],
                          attachment_id=attachment_id)

    def ping(self, ctxt, backend_host, timeout=None):
        """``"pong"`` when the backend ``hostname@backend`` answers."""
        return self._call(ctxt, backend_host, "ping", timeout=timeout)
