"""Opening pika connections with fail-over across the hosts of a URL.

:func:`connect` tries every host of a :class:`~controlplane.rpc.url.TransportURL`
once per round, starting at a rotating position (random at first, then the
host after the one used last time, so that processes spread over a cluster
and a dead first host does not cost every connect), and sleeps with
exponential back-off (0.1 s doubling up to 5 s) between rounds until a host
accepts or the deadline passes. This is oslo.messaging's rabbit driver
behaviour with ``rabbit_retry_interval``/``rabbit_retry_backoff``.

Dead peers: a broker host that vanishes without closing the TCP
connection (powered off, cut off by a partition) would leave a publish
waiting for its confirm until the kernel gives up retransmitting, about
15 minutes. ``CONF.rpc_tcp_user_timeout`` sets ``TCP_USER_TIMEOUT`` (sent
data unacknowledged that long fails the socket, see tcp(7)) and TCP
keepalive probes (an idle connection is probed after as many seconds, once
a second), so the connection errors and the caller reconnects to
another host of the URL. The reconnect's TCP connect to a host that drops
packets gives up after ``CONF.rpc_connect_timeout`` seconds (default 3),
not the 10 s the whole handshake may take, before the next host is tried.

Heartbeats: the ``heartbeat`` option of the URL, else ``CONF.rpc_heartbeat``
(0 turns them off). pika's BlockingConnection sends and checks heartbeats
only while one of its methods runs; every user of a connection here either
loops on ``process_data_events`` or checks the connection before use and
reconnects when the broker dropped it.
"""
import itertools
import logging
import random
import threading
import time

import pika
import pika.exceptions

from controlplane import netutils
from controlplane.conf import CONF
from controlplane.rpc.exceptions import MessagingConnectionError

LOG = logging.getLogger(__name__)

#: Seconds of the first back-off sleep and its ceiling.
BACKOFF_START = 0.1
BACKOFF_MAX = 5.0
#: Upper bound in seconds for the whole TCP + AMQP handshake with one host;
#: the TCP connect alone is bounded by ``CONF.rpc_connect_timeout``.
HOST_CONNECT_TIMEOUT = 10.0
#: Seconds a publish may stay blocked by a broker resource alarm.
BLOCKED_CONNECTION_TIMEOUT = 60.0

_rotation_lock = threading.Lock()
_rotation = {}

#: Errors that mean "this connection (or channel) is unusable, open another".
CONNECTION_ERRORS = (pika.exceptions.AMQPConnectionError,
                     pika.exceptions.AMQPChannelError,
                     pika.exceptions.ReentrancyError,
                     ConnectionError, OSError, EOFError)


def heartbeat_for(url):
    """Heartbeat interval in seconds for ``url`` (URL option, else CONF)."""
    if url.heartbeat is not None:
        return url.heartbeat
    return CONF.rpc_heartbeat


def _next_start(url):
    """Index of the host the next connect to ``url`` tries first."""
    key = tuple(str(h) for h in url.hosts) + (url.virtual_host,)
    with _rotation_lock:
        counter = _rotation.get(key)
        if counter is None:
            counter = itertools.count(random.randrange(len(url.hosts)))
            _rotation[key] = counter
        return next(counter) % len(url.hosts)


def tcp_options(user_timeout_s=None):
    """pika ``tcp_options`` for dead-peer detection: ``TCP_USER_TIMEOUT``
    (milliseconds) and keepalive (probes after that many seconds idle, one
    a second), from ``CONF.rpc_tcp_user_timeout`` seconds; None when it
    is 0."""
    if user_timeout_s is None:
        user_timeout_s = CONF.rpc_tcp_user_timeout
    return netutils.dead_peer_options(user_timeout_s)


def connection_parameters(url, host, heartbeat=None, name=None,
                          timeout=HOST_CONNECT_TIMEOUT):
    """pika ``ConnectionParameters`` for one :class:`HostSpec` of ``url``."""
    if heartbeat is None:
        heartbeat = heartbeat_for(url)
    props = {"connection_name": name} if name else None
    tcp = tcp_options()
    connect_timeout = min(timeout, CONF.rpc_connect_timeout)
    return pika.ConnectionParameters(
        host=host.host, port=host.port, virtual_host=url.virtual_host,
        credentials=pika.PlainCredentials(host.user, host.password,
                                          erase_on_connect=False),
        heartbeat=heartbeat,
        blocked_connection_timeout=BLOCKED_CONNECTION_TIMEOUT,
        connection_attempts=1, retry_delay=0,
        socket_timeout=max(0.5, connect_timeout), stack_timeout=max(1.0, timeout),
        tcp_options=tcp, client_properties=props)


def connect(url, deadline=None, stop_event=None, name=None, heartbeat=None):
    """Open a BlockingConnection to the first host of ``url`` that accepts.

    :param url: a :class:`~controlplane.rpc.url.TransportURL`.
    :param deadline: ``time.monotonic()`` value after which to give up;
        None tries forever (until ``stop_event`` is set).
    :param stop_event: optional ``threading.Event``; once set, stop trying.
    :param name: connection name shown by ``rabbitmqctl list_connections``.
    :returns: ``(connection, host_spec)``.
    :raises MessagingConnectionError: every host failed until the deadline
        (or ``stop_event`` was set); the message lists the last errors.
    """
    hosts = url.hosts
    delay = BACKOFF_START
    rounds = 0
    while True:
        start = _next_start(url)
        errors = []
        for i in range(len(hosts)):
            host = hosts[(start + i) % len(hosts)]
            budget = HOST_CONNECT_TIMEOUT
            if deadline is not None:
                budget = min(budget, max(0.5, deadline - time.monotonic()))
            params = connection_parameters(url, host, heartbeat=heartbeat,
                                           name=name, timeout=budget)
            try:
                conn = pika.BlockingConnection(params)
            except (pika.exceptions.AMQPError, OSError) as exc:
                errors.append("%s: %s" % (host, _describe(exc)))
                LOG.warning("Could not connect to AMQP broker %s (vhost %r): "
                            "%s; trying the next host", host,
                            url.virtual_host, _describe(exc))
                continue
            if rounds or i:
                LOG.info("Connected to AMQP broker %s (vhost %r) after "
                         "%d failed attempt(s)", host, url.virtual_host,
                         rounds * len(hosts) + i)
            else:
                LOG.debug("Connected to AMQP broker %s (vhost %r)", host,
                          url.virtual_host)
            return conn, host
        rounds += 1
        now = time.monotonic()
        if (stop_event is not None and stop_event.is_set()) or (
                deadline is not None and now >= deadline):
            raise MessagingConnectionError(
                "Could not connect to any AMQP broker of %s: %s"
                % (url, "; ".join(errors)))
        sleep = delay if deadline is None else min(delay, deadline - now)
        LOG.warning("No AMQP broker of %s reachable; retrying in %.1f s",
                    url, sleep)
        if stop_event is not None:
            if stop_event.wait(sleep):
                raise MessagingConnectionError(
                    "Stopped while connecting to %s" % url)
        else:
            time.sleep(sleep)
        delay = min(delay * 2, BACKOFF_MAX)


def _describe(exc):
    """Short text of a pika/socket error (pika's str() is often empty)."""
    text = str(exc)
    return "%s(%s)" % (type(exc).__name__, text) if text else repr(exc)


def close_quietly(conn):
    """Close a BlockingConnection, ignoring every error (it may be dead)."""
    if conn is None:
        return
    try:
        if conn.is_open:
            conn.close()
    except Exception:  # noqa: BLE001 - the connection is being dropped
        LOG.debug("Ignored error while closing AMQP connection",
                  exc_info=True)
