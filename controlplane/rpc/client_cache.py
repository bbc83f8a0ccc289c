"""One :class:`~controlplane.rpc.RPCClient` per ``(transport_url, topic)``
per process, shared by every rpcapi module (compute, volume, volume
scheduler). A cell's message queue is its cell mapping's
``transport_url``, hence the key.

After a fork (gunicorn workers) call :func:`reset` so that a child never
uses its parent's broker connections.
"""
import threading

from controlplane.conf import CONF

_clients = {}
_lock = threading.Lock()


def get_client(topic, transport_url=None):
    """The cached RPCClient of ``topic`` on ``transport_url`` (None:
    ``[DEFAULT] transport_url``), created on first use."""
    url = transport_url or CONF.transport_url
    key = (url, topic)
    with _lock:
        client = _clients.get(key)
        if client is None:
            from controlplane.rpc.client import RPCClient
            client = RPCClient(url, topic)
            _clients[key] = client
        return client


def reset():
    """Forget every cached client (tests, after fork)."""
    with _lock:
        _clients.clear()
