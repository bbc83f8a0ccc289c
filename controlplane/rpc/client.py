"""RPC client: ``call``, ``cast`` and ``fanout_cast`` over RabbitMQ.

Follows oslo.messaging's ``RPCClient`` (which Nova's ``rpcapi`` modules
use): a call blocks for the reply of exactly one server, a cast is
fire-and-forget, a fanout cast reaches every server of a topic.

Routing (see docs/architecture.md, RPC):

* ``call``/``cast`` without ``server`` → topic exchange, routing key
  ``<topic>`` (the shared quorum queue: any server of the topic);
* with ``server`` → routing key ``<topic>.<server>`` (that server only);
* ``fanout_cast`` → fanout exchange ``<topic>_fanout``.

Every publish waits for the broker's publisher confirm and uses
``mandatory``, so a request that no queue would take raises
:class:`MessageUndeliverable` at once instead of vanishing.
"""
import copy
import logging
import time
import uuid

import pika

from controlplane.conf import CONF
from controlplane.context import RequestContext
from controlplane.rpc import serializer
from controlplane.rpc.exceptions import (MessagingConnectionError,
                                         MessagingTimeout, RemoteError)
from controlplane.rpc.transport import get_transport

LOG = logging.getLogger(__name__)

MESSAGE_VERSION = "1.0"
CONTENT_TYPE = "application/json"


def fanout_exchange(topic):
    """Name of the fanout exchange of ``topic``."""
    return "%s_fanout" % topic


def context_to_dict(ctxt):
    """Wire form of a context: RequestContext → ``to_dict()``, dict → copy,
    None → ``{}``."""
    if ctxt is None:
        return {}
    if isinstance(ctxt, RequestContext):
        return ctxt.to_dict()
    if isinstance(ctxt, dict):
        return dict(ctxt)
    to_dict = getattr(ctxt, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError("RPC context must be a RequestContext or a dict, not %s"
                    % type(ctxt).__name__)


def build_message(ctxt, method, args, msg_id=None):
    """The message body dict: ``{"method", "args", "context", "msg_id",
    "version"}``."""
    return {
        "method": method,
        "args": args,
        "context": context_to_dict(ctxt),
        "msg_id": msg_id or uuid.uuid4().hex,
        "version": MESSAGE_VERSION,
    }


class RPCClient:
    """Client for the RPC servers of one topic.

    :param transport_url: URL string, ``TransportURL``, a ``Transport``, or
        None for ``CONF.transport_url``. Clients of one URL share one
        :class:`~controlplane.rpc.transport.Transport` (connections per
        thread, one reply queue per process).
    :param topic: e.g. ``"conductor"``, ``"scheduler"``, ``"compute"``.
    :param exchange: topic exchange name (default ``"controlplane"``).
    :param timeout: default call timeout in seconds (default
        ``CONF.rpc_response_timeout``).
    :param server: default target server (routing key ``<topic>.<server>``).

    Thread-safe: one client may be used from any number of threads.
    """

    def __init__(self, transport_url, topic, exchange="controlplane",
                 timeout=None, server=None):
        self.transport = get_transport(transport_url)
        self.topic = topic
        self.exchange = exchange
        self.timeout = timeout
        self.server = server

    def prepare(self, server=None, timeout=None, topic=None):
        """A copy of this client with another default server/timeout/topic."""
        other = copy.copy(self)
        if server is not None:
            other.server = server
        if timeout is not None:
            other.timeout = timeout
        if topic is not None:
            other.topic = topic
        return other

    # -- helpers -----------------------------------------------------------
    def _timeout(self, timeout):
        if timeout is None:
            timeout = self.timeout
        if timeout is None:
            timeout = CONF.rpc_response_timeout
        return float(timeout)

    def _publish_deadline(self):
        """Casts give up connecting after the client's timeout."""
        return time.monotonic() + self._timeout(None)

    def _routing_key(self, server):
        server = server if server is not None else self.server
        return "%s.%s" % (self.topic, server) if server else self.topic

    # -- API ---------------------------------------------------------------
    def call(self, ctxt, method, server=None, timeout=None, **kwargs):
        """Invoke ``method(ctxt, **kwargs)`` on one server and return its
        result (JSON types; datetimes come back as ISO strings).

        :param ctxt: RequestContext or dict.
        :param server: target a given server instead of any.
        :param timeout: seconds to wait for the reply (default: client's,
            else ``CONF.rpc_response_timeout``). The request expires in
            the queue after the same time, so a late server does not run it.
        :raises MessagingTimeout: no reply in time (also when the broker
            could not be reached in time).
        :raises RemoteError: the handler raised (``exc_type``, ``value``,
            ``traceback``); also for an unknown method (``NoSuchMethod``).
        :raises MessageUndeliverable: no queue for the topic/server.
        :raises MessageDeliveryFailure: the request could not be published.
        """
        timeout = self._timeout(timeout)
        deadline = time.monotonic() + timeout
        routing_key = self._routing_key(server)
        listener = self.transport.reply_listener(deadline)
        msg = build_message(ctxt, method, kwargs)
        msg_id = msg["msg_id"]
        body = serializer.dumps(msg)
        props = pika.BasicProperties(
            content_type=CONTENT_TYPE, delivery_mode=2,
            correlation_id=msg_id, message_id=msg_id,
            reply_to=listener.queue,
            expiration=str(max(1, int(timeout * 1000))))
        waiter = listener.register(msg_id)
        try:
            LOG.debug("RPC call %s.%s msg_id=%s request_id=%s",
                      routing_key, method, msg_id,
                      msg["context"].get("request_id"))
            try:
                self.transport.publish(self.exchange, routing_key, body,
                                       props, mandatory=True,
                                       deadline=deadline)
            except MessagingConnectionError as exc:
                raise MessagingTimeout(
                    "Timed out after %.1f s connecting to send %s to %s: %s"
                    % (timeout, method, routing_key, exc)) from exc
            remaining = deadline - time.monotonic()
            if not waiter.event.wait(max(0.0, remaining)):
                raise MessagingTimeout(
                    "Timed out after %.1f s waiting for the reply to %s on "
                    "%s (msg_id %s)" % (timeout, method, routing_key, msg_id))
        finally:
            listener.unregister(msg_id)
        reply = waiter.reply or {}
        failure = reply.get("failure")
        if failure:
            raise RemoteError(failure.get("exc_type"), failure.get("value"),
                              failure.get("traceback"),
                              failure.get("exc_module"))
        return reply.get("result")

    def cast(self, ctxt, method, server=None, **kwargs):
        """Send ``method(ctxt, **kwargs)`` to one server without waiting
        for it to run; returns None once the broker confirmed the message
        (persistent, in a durable quorum queue).

        :raises MessageUndeliverable: no queue for the topic/server.
        :raises MessagingConnectionError: no broker reachable within the
            client's timeout (default ``CONF.rpc_response_timeout``).
        :raises MessageDeliveryFailure: not confirmed.
        """
        routing_key = self._routing_key(server)
        msg = build_message(ctxt, method, kwargs)
        props = pika.BasicProperties(
            content_type=CONTENT_TYPE, delivery_mode=2,
            message_id=msg["msg_id"])
        LOG.debug("RPC cast %s.%s msg_id=%s request_id=%s", routing_key,
                  method, msg["msg_id"], msg["context"].get("request_id"))
        self.transport.publish(self.exchange, routing_key,
                               serializer.dumps(msg), props, mandatory=True,
                               deadline=self._publish_deadline())

    def fanout_cast(self, ctxt, method, **kwargs):
        """Send ``method(ctxt, **kwargs)`` to every running server of the
        topic (exchange ``<topic>_fanout``); returns None after the confirm.

        Not mandatory: with no server running the message is dropped
        without error (nobody to notify).

        :raises MessageDeliveryFailure: not confirmed.
        """
        msg = build_message(ctxt, method, kwargs)
        props = pika.BasicProperties(content_type=CONTENT_TYPE,
                                     delivery_mode=1,
                                     message_id=msg["msg_id"])
        LOG.debug("RPC fanout cast %s.%s msg_id=%s", self.topic, method,
                  msg["msg_id"])
        self.transport.publish(fanout_exchange(self.topic), "",
                               serializer.dumps(msg), props, mandatory=False,
                               deadline=self._publish_deadline(),
                               exchange_type="fanout")
