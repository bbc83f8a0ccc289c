"""The transport: everything an RPC client needs from the broker.

A :class:`Transport` belongs to one transport URL and one process and is
shared by every :class:`~controlplane.rpc.client.RPCClient` (and by the
replies of :class:`~controlplane.rpc.server.RPCServer`) of that URL; get it
with :func:`get_transport`.

Thread safety: pika's BlockingConnection must only be used by the thread
that made it. The transport therefore keeps **one connection and one
confirm-mode channel per thread** (``threading.local``), opened on first
use and reused for every later publish of that thread; a thread pool or a
gunicorn worker with N threads holds at most N publisher connections.
Replies to calls are consumed by a single per-process
:class:`~controlplane.rpc.reply.ReplyListener` thread.

Liveness: an idle per-thread connection does not answer heartbeats, so the
broker may close it. Before a publish on a connection idle for more than
:data:`FRESH_SECONDS` the connection is polled once
(``process_data_events(0)``, which also sends a due heartbeat); a dead one
is replaced. A busy connection is not polled (waiting for the previous
publisher confirm processed its traffic and heartbeats), and a publish that
fails because the connection dropped is retried on a new connection,
trying every host of the URL.

Fork safety: connections and the listener remember the pid that made them;
a child process never touches its parent's sockets and opens its own.
"""
import logging
import os
import threading
import time

import pika
import pika.exceptions

from controlplane.conf import CONF
from controlplane.rpc import connection as connection_mod
from controlplane.rpc import reply as reply_mod
from controlplane.rpc.exceptions import (MessageDeliveryFailure,
                                         MessageUndeliverable,
                                         MessagingConnectionError,
                                         MessagingTimeout)
from controlplane.rpc.url import HostSpec, TransportURL  # noqa: F401

LOG = logging.getLogger(__name__)

#: A publisher connection that had a publish confirmed less than this many
#: seconds ago is used without polling it first.
FRESH_SECONDS = 1.0

__all__ = ["Transport", "TransportURL", "HostSpec", "get_transport",
           "cleanup_transports"]


class _ThreadPublisher:
    """The connection and confirm-mode channel of one thread."""

    def __init__(self, url):
        self.url = url
        self.pid = os.getpid()
        self.conn = None
        self.channel = None
        self.declared = set()
        self.last_ok = 0.0   # monotonic time of the last confirmed publish

    def get_channel(self, deadline):
        """A usable channel; reconnects (fail-over) if the old one died."""
        if self.conn is not None and time.monotonic() - self.last_ok < FRESH_SECONDS \
                and self.conn.is_open and self.channel is not None and self.channel.is_open:
            return self.channel
        if self.conn is not None:
            try:
                # Detects a connection the broker closed while we were
                # idle, and sends a heartbeat if one is due.
                self.conn.process_data_events(0)
                if self.conn.is_open and self.channel is not None \
                        and self.channel.is_open:
                    return self.channel
            except connection_mod.CONNECTION_ERRORS as exc:
                LOG.info("Idle AMQP publisher connection of thread %s is "
                         "gone (%s); opening a new one",
                         threading.current_thread().name,
                         connection_mod._describe(exc))
            self.reset()
        conn, _host = connection_mod.connect(
            self.url, deadline=deadline,
            name="controlplane-publisher:%d:%s" % (
                os.getpid(), threading.current_thread().name))
        try:
            channel = conn.channel()
            channel.confirm_delivery()
        except Exception:
            connection_mod.close_quietly(conn)
            raise
        self.conn, self.channel = conn, channel
        self.declared = set()
        return channel

    def ensure_exchange(self, exchange, exchange_type):
        """Declare ``exchange`` (durable) once per connection."""
        key = (exchange, exchange_type)
        if exchange and key not in self.declared:
            self.channel.exchange_declare(exchange, exchange_type,
                                          durable=True)
            self.declared.add(key)

    def reset(self):
        """Drop the connection (closing it if still open)."""
        conn, self.conn, self.channel = self.conn, None, None
        self.declared = set()
        if conn is not None and self.pid == os.getpid():
            connection_mod.close_quietly(conn)

    def __del__(self):
        # Runs when the owning thread has ended: nobody else can be using
        # the connection any more.
        try:
            self.reset()
        except Exception:  # noqa: BLE001
            pass


#: Seconds before the first retry of a publish the broker nacked; doubled
#: per nack up to NACK_MAX_PAUSE (quorum-queue leader elections take ~1-5 s).
NACK_FIRST_PAUSE = 0.1
NACK_MAX_PAUSE = 2.0


class Transport:
    """Shared broker access for one transport URL in one process.

    :param url: transport URL string or :class:`TransportURL`.
    :raises InvalidTransportURL: for a malformed URL.
    """

    def __init__(self, url):
        self.url = TransportURL.parse(url)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._listener = None

    def __repr__(self):
        return "<Transport %s>" % self.url

    # -- publishing --------------------------------------------------------
    def _publisher(self):
        pub = getattr(self._local, "publisher", None)
        if pub is None or pub.pid != os.getpid():
            pub = _ThreadPublisher(self.url)
            self._local.publisher = pub
        return pub

    def publish(self, exchange, routing_key, body, properties,
                mandatory=True, deadline=None, exchange_type="topic"):
        """Publish one message and wait for the broker's confirm.

        :param exchange: exchange name (declared durable of
            ``exchange_type`` on first use), or ``""`` for the default
            exchange (replies).
        :param routing_key: routing key (``<topic>``, ``<topic>.<server>``,
            or a reply queue name).
        :param body: the message body (bytes).
        :param properties: ``pika.BasicProperties``.
        :param mandatory: ask the broker to return an unroutable message.
        :param deadline: ``time.monotonic()`` limit for connecting and
            retrying; default ``CONF.rpc_response_timeout`` from now.
        :raises MessageUndeliverable: the broker returned the message (no
            queue bound for ``routing_key``); not retried.
        :raises MessagingConnectionError: no host reachable before the
            deadline.
        :raises MessageDeliveryFailure: the publish failed on every retry
            (connection lost, channel closed by the broker), or the broker
            kept refusing it (nack) until the deadline.

        A nack is retried with a growing pause (``NACK_FIRST_PAUSE`` up to
        ``NACK_MAX_PAUSE`` seconds) until the deadline: a quorum queue
        nacks publishes while it elects a new leader, which takes a few
        seconds when its leader's node stops (RabbitMQ "Quorum Queues",
        publisher confirms). Handlers are idempotent, so a message the
        broker did take after all is harmless twice.
        """
        if deadline is None:
            deadline = time.monotonic() + CONF.rpc_response_timeout
        pub = self._publisher()
        max_failures = max(2, len(self.url.hosts) + 1)
        failures = nacks = 0
        while True:
            try:
                channel = pub.get_channel(deadline)
                pub.ensure_exchange(exchange, exchange_type)
                channel.basic_publish(exchange, routing_key, body,
                                      properties, mandatory=mandatory)
                pub.last_ok = time.monotonic()
                return
            except pika.exceptions.UnroutableError:
                raise MessageUndeliverable(exchange, routing_key) from None
            except MessagingConnectionError:
                raise
            except pika.exceptions.NackError as exc:
                nacks += 1
                pub.reset()
                pause = min(NACK_MAX_PAUSE, NACK_FIRST_PAUSE * 2 ** (nacks - 1))
                if time.monotonic() + pause >= deadline:
                    raise MessageDeliveryFailure(
                        "Publishing to exchange %r with routing key %r was "
                        "refused by the broker %d time(s) until the deadline "
                        "(nack)" % (exchange, routing_key, nacks)) from exc
                LOG.warning("Publishing to exchange %r with routing key %r was "
                            "refused by the broker (nack %d); retrying in %.1fs",
                            exchange, routing_key, nacks, pause)
                time.sleep(pause)
            except connection_mod.CONNECTION_ERRORS as exc:
                failures += 1
                pub.reset()
                reason = connection_mod._describe(exc)
                if failures >= max_failures or time.monotonic() >= deadline:
                    raise MessageDeliveryFailure(
                        "Publishing to exchange %r with routing key %r "
                        "failed %d time(s); last error: %s"
                        % (exchange, routing_key, failures, reason)) from exc
                LOG.warning("Publishing to exchange %r with routing key %r "
                            "failed (%s); retrying on a new connection",
                            exchange, routing_key, reason)

    # -- replies -----------------------------------------------------------
    def reply_listener(self, deadline):
        """The running reply listener of this process, started on demand.

        :param deadline: ``time.monotonic()`` limit to wait until the reply
            queue exists.
        :raises MessagingTimeout: the reply queue could not be declared in
            time (broker unreachable).
        """
        with self._lock:
            listener = self._listener
            if listener is None or not listener.is_alive():
                listener = reply_mod.ReplyListener(self.url)
                listener.start()
                self._listener = listener
        if not listener.wait_ready(deadline - time.monotonic()):
            raise MessagingTimeout(
                "Could not set up the RPC reply queue on %s in time"
                % self.url)
        return listener

    def cleanup(self):
        """Stop the reply listener (deleting its queue) and close the
        calling thread's publisher connection. Other threads' connections
        are dropped when those threads end."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None and listener.pid == os.getpid():
            listener.stop()
        pub = getattr(self._local, "publisher", None)
        if pub is not None:
            pub.reset()
            self._local.publisher = None


_transports = {}
_transports_lock = threading.Lock()


def get_transport(url=None):
    """The shared :class:`Transport` of ``url`` (default
    ``CONF.transport_url``) for this process.

    :raises InvalidTransportURL: for a malformed URL.
    """
    if url is None:
        url = CONF.transport_url
    if isinstance(url, Transport):
        return url
    key = url.to_string(mask_password=False) \
        if isinstance(url, TransportURL) else url
    with _transports_lock:
        transport = _transports.get(key)
        if transport is None:
            transport = Transport(url)
            _transports[key] = transport
        return transport


def cleanup_transports():
    """:meth:`Transport.cleanup` every shared transport (tests, shutdown)."""
    with _transports_lock:
        transports = list(_transports.values())
        _transports.clear()
    for transport in transports:
        transport.cleanup()
