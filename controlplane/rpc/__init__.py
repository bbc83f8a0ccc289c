"""RPC over RabbitMQ with pika (oslo.messaging's model, as Nova uses it).

Public names::

    from controlplane import rpc
    client = rpc.RPCClient(CONF.transport_url, "conductor")
    client.cast(ctxt, "schedule_and_build_instances", build_requests=[...],
                request_specs=[...])
    client.call(ctxt, "ping", timeout=5)          # -> "pong"

    server = rpc.RPCServer(CONF.transport_url, "conductor", CONF.host,
                           [ConductorManager()])
    server.start(); ...; server.stop(); server.wait()

See docs/architecture.md (RPC) for exchanges, queues and the message body.
"""
from controlplane.rpc.client import RPCClient
from controlplane.rpc.dispatcher import (RequestIdLogFilter,
                                         current_context)
from controlplane.rpc.exceptions import (InvalidTransportURL,
                                         MessageDeliveryFailure,
                                         MessageUndeliverable,
                                         MessagingConnectionError,
                                         MessagingException,
                                         MessagingTimeout, NoSuchMethod,
                                         RemoteError, UnsupportedVersion)
from controlplane.rpc.server import RPCServer
from controlplane.rpc.transport import (Transport, cleanup_transports,
                                        get_transport)
from controlplane.rpc.url import HostSpec, TransportURL

__all__ = [
    "RPCClient", "RPCServer", "Transport", "TransportURL", "HostSpec",
    "get_transport", "cleanup_transports", "current_context",
    "RequestIdLogFilter", "MessagingException", "MessagingTimeout",
    "RemoteError", "MessageDeliveryFailure", "MessageUndeliverable",
    "MessagingConnectionError", "InvalidTransportURL", "NoSuchMethod",
    "UnsupportedVersion",
]
