"""RPC server: consumes a topic's queues and runs endpoint methods.

Follows oslo.messaging's ``RPCServer`` with the threading executor, which
Nova services run:

* On (re)connect it declares the durable topic exchange, the durable
  **quorum** queues ``<topic>`` and ``<topic>.<server>`` bound with those
  routing keys, and the fanout exchange ``<topic>_fanout`` with an
  exclusive auto-delete queue of its own.
* One I/O thread owns the pika connection (pika is not thread-safe); it
  hands each delivery to a thread pool of ``executor_threads`` workers,
  with a prefetch of ``executor_threads`` per queue so the broker never
  gives a server much more than it can run.
* A worker runs the handler, publishes the reply of a call (``reply_to``,
  ``correlation_id``) through the shared transport, then asks the I/O
  thread (``add_callback_threadsafe``) to **ack**: a message is acked only
  after its handler finished. A handler exception or an unknown method is
  logged, replied as a RemoteError for a call, and acked (never requeued
  forever). If the connection dies first, the message stays unacked and
  the broker redelivers it (handlers must be idempotent).
* Connection loss or a consumer cancelled by the broker (queue deleted,
  node down) → reconnect across the URL's hosts with back-off and
  re-declare everything.
* A process that answers for several servers of a topic (a compute
  service whose driver presents several nodes) passes them all as
  ``server``: one connection, one I/O thread and one worker pool consume
  ``<topic>`` and every ``<topic>.<server>`` queue (and one fanout queue,
  so a fanout cast runs once per process).
"""
import concurrent.futures
import functools
import logging
import os
import threading
import time
import uuid

import pika
import pika.exceptions

from controlplane.conf import CONF
from controlplane.context import RequestContext
from controlplane.rpc import connection as connection_mod
from controlplane.rpc import serializer
from controlplane.rpc.client import CONTENT_TYPE, fanout_exchange
from controlplane.rpc.dispatcher import RPCDispatcher, failure_dict
from controlplane.rpc.exceptions import (MessageDeliveryFailure,
                                         MessageUndeliverable,
                                         MessagingConnectionError,
                                         NoSuchMethod, UnsupportedVersion)
from controlplane.rpc.transport import get_transport

LOG = logging.getLogger(__name__)

#: Seconds of one idle wait of the I/O loop. stop() and acks wake the loop at
#: once (add_callback_threadsafe) and deliveries end the wait, so this only
#: bounds how often an idle server checks its consumers.
POLL_INTERVAL = 1.0
#: Seconds a reply may take to be published and confirmed.
REPLY_TIMEOUT = 30.0
#: Seconds a reply returned unroutable is retried: the caller's listener
#: re-declares its reply queue within a few seconds after losing it (a
#: broker node died, :mod:`controlplane.rpc.reply`). oslo.messaging retries
#: a reply to a missing queue the same way.
REPLY_QUEUE_WAIT = 10.0
#: First and longest pause in seconds between those retries (doubling).
REPLY_RETRY_PAUSE = 0.25
REPLY_RETRY_PAUSE_MAX = 2.0


class RPCServer:
    """Serve the RPC methods of ``endpoints`` on ``topic``.

    :param transport_url: URL string, ``TransportURL``, ``Transport`` or
        None (``CONF.transport_url``).
    :param topic: e.g. ``"conductor"``.
    :param server: this server's name (usually ``CONF.host``); requests
        sent with ``server=`` use routing key ``<topic>.<server>``. A list
        of names serves each of them (the first names the server in logs).
    :param endpoints: objects whose public methods are the RPC methods,
        called as ``method(ctxt, **args)`` with a RequestContext.
    :param exchange: topic exchange (default ``"controlplane"``).
    :param executor_threads: handler threads (default
        ``CONF.executor_thread_pool_size``); also the prefetch per queue.
    """

    def __init__(self, transport_url, topic, server, endpoints,
                 exchange="controlplane", executor_threads=None):
        self.transport = get_transport(transport_url)
        self.url = self.transport.url
        self.topic = topic
        if isinstance(server, (list, tuple)):
            if not server:
                raise ValueError("RPCServer needs at least one server name")
            self.servers = list(server)
        else:
            self.servers = [server]
        self.server = self.servers[0]
        self.exchange = exchange
        self.dispatcher = RPCDispatcher(endpoints)
        self.executor_threads = int(executor_threads or
                                    CONF.executor_thread_pool_size)
        self.fanout_queue = "%s_fanout_%s" % (topic, uuid.uuid4().hex)
        self._executor = None
        self._thread = None
        self._lock = threading.Lock()
        self._conn = None
        self._channel = None
        self._consuming = threading.Event()
        self._stopping = threading.Event()   # stop consuming, no reconnect
        self._exit = threading.Event()       # leave the I/O loop
        self._graceful = True

    @property
    def queues(self):
        """Names of the durable queues: ``[<topic>, <topic>.<server>, ...]``."""
        return [self.topic] + ["%s.%s" % (self.topic, name) for name in self.servers]

    def __repr__(self):
        return "<RPCServer topic=%s server=%s on %s>" % (
            self.topic, self.server, self.url)

    # -- lifecycle ---------------------------------------------------------
    def start(self, ready_timeout=30.0):
        """Start consuming in the background.

        :param ready_timeout: seconds to wait until the queues are declared
            and consumed.
        :returns: True if consuming when it returns; False if the broker
            was not reachable yet (the server keeps trying).
        :raises RuntimeError: if started twice.
        """
        if self._thread is not None:
            raise RuntimeError("%r was already started" % self)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.executor_threads,
            thread_name_prefix="rpc-%s" % self.topic)
        self._thread = threading.Thread(
            target=self._run, name="rpc-server-%s" % self.topic, daemon=True)
        self._thread.start()
        ready = self._consuming.wait(ready_timeout)
        if not ready:
            LOG.warning("%r is not consuming after %.0f s; it keeps trying "
                        "to reach the broker", self, ready_timeout)
        return ready

    def is_consuming(self):
        """True while the server consumes its queues."""
        return self._consuming.is_set()

    def stop(self, graceful=True):
        """Stop consuming, let running handlers finish, then close.

        Messages received but not started yet are not run; the broker gives
        them to another server. With ``graceful=False`` the connection is
        closed at once (like a crash): running handlers go on, but their
        messages are redelivered since they can no longer be acked.
        """
        if self._thread is None or self._stopping.is_set():
            return
        LOG.info("Stopping %r", self)
        self._graceful = graceful
        self._stopping.set()
        if not graceful:
            self._exit.set()
            self._wake()
            self._executor.shutdown(wait=False, cancel_futures=True)
            return
        self._wake()
        # Running handlers finish and schedule their acks on the I/O thread.
        self._executor.shutdown(wait=True, cancel_futures=True)
        # Leave the loop only after those acks ran (callbacks run in order).
        with self._lock:
            conn = self._conn
        try:
            if conn is None:
                raise pika.exceptions.ConnectionWrongStateError()
            conn.add_callback_threadsafe(self._exit.set)
        except pika.exceptions.AMQPError:
            self._exit.set()

    def wait(self, timeout=None):
        """Block until the server stopped (after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                LOG.warning("%r did not stop within %s s; closing anyway",
                            self, timeout)
                self._exit.set()
                self._thread.join(2.0)
        if self._executor is not None and self._graceful:
            self._executor.shutdown(wait=True)

    def _wake(self):
        with self._lock:
            conn = self._conn
        if conn is not None:
            try:
                conn.add_callback_threadsafe(lambda: None)
            except pika.exceptions.AMQPError:
                pass

    # -- I/O thread --------------------------------------------------------
    def _declare(self, channel):
        """Declare exchanges, queues and bindings; return queues to consume."""
        channel.exchange_declare(self.exchange, "topic", durable=True)
        for queue in self.queues:
            channel.queue_declare(queue, durable=True,
                                  arguments={"x-queue-type": "quorum"})
            channel.queue_bind(queue, self.exchange, routing_key=queue)
        fanout = fanout_exchange(self.topic)
        channel.exchange_declare(fanout, "fanout", durable=True)
        channel.queue_declare(self.fanout_queue, exclusive=True,
                              auto_delete=True,
                              arguments={"x-queue-type": "classic"})
        channel.queue_bind(self.fanout_queue, fanout)
        return self.queues + [self.fanout_queue]

    def _run(self):
        delay = connection_mod.BACKOFF_START
        while not self._stopping.is_set() and not self._exit.is_set():
            conn = None
            try:
                conn, host = connection_mod.connect(
                    self.url, stop_event=self._stopping,
                    name="controlplane-server:%s:%s:%d" % (
                        self.topic, self.server, os.getpid()))
                channel = conn.channel()
                queues = self._declare(channel)
                channel.basic_qos(prefetch_count=self.executor_threads)
                for queue in queues:
                    channel.basic_consume(queue, self._on_message)
                with self._lock:
                    self._conn, self._channel = conn, channel
                self._consuming.set()
                delay = connection_mod.BACKOFF_START
                LOG.info("%r consuming %s on %s", self, ", ".join(queues),
                         host)
                self._loop(conn, channel, len(queues))
            except (MessagingConnectionError,
                    *connection_mod.CONNECTION_ERRORS) as exc:
                if self._stopping.is_set() or self._exit.is_set():
                    break
                LOG.warning("%r lost its broker connection (%s); "
                            "reconnecting in %.1f s; unacked messages will "
                            "be redelivered", self,
                            connection_mod._describe(exc), delay)
                self._after_failure(delay)
                delay = min(delay * 2, connection_mod.BACKOFF_MAX)
            except Exception:  # noqa: BLE001 - keep serving
                if self._stopping.is_set() or self._exit.is_set():
                    break
                LOG.exception("%r: unexpected error in the I/O loop; "
                              "reconnecting", self)
                self._after_failure(delay)
                delay = min(delay * 2, connection_mod.BACKOFF_MAX)
            finally:
                self._consuming.clear()
                with self._lock:
                    self._conn = self._channel = None
                connection_mod.close_quietly(conn)
        LOG.info("%r stopped", self)

    def _after_failure(self, delay):
        self._consuming.clear()
        with self._lock:
            self._conn = self._channel = None
        self._stopping.wait(delay)

    def _loop(self, conn, channel, n_consumers):
        cancelled = False
        while not self._exit.is_set():
            conn.process_data_events(time_limit=POLL_INTERVAL)
            if self._stopping.is_set():
                if not cancelled:
                    for tag in channel.consumer_tags:
                        channel.basic_cancel(tag)
                    cancelled = True
                    self._consuming.clear()
                    LOG.debug("%r stopped consuming; waiting for running "
                              "handlers", self)
            elif len(channel.consumer_tags) < n_consumers:
                raise pika.exceptions.ChannelClosed(
                    404, "a consumer was cancelled by the broker "
                    "(queue deleted or node down)")

    def _on_message(self, channel, method, properties, body):
        """I/O thread: hand a delivery to the worker pool."""
        try:
            self._executor.submit(self._handle, channel, method.delivery_tag,
                                  properties, body)
        except RuntimeError:
            # Pool shut down (stopping): give the message back.
            channel.basic_nack(method.delivery_tag, requeue=True)

    # -- worker threads ----------------------------------------------------
    def _handle(self, channel, delivery_tag, properties, body):
        reply_to = properties.reply_to
        msg_id = properties.correlation_id
        method = None
        request_id = None
        result = failure = None
        try:
            msg = serializer.loads(body)
            if not isinstance(msg, dict):
                raise ValueError("RPC message body is not a JSON object")
            version = str(msg.get("version") or "1.0")
            if version.split(".")[0] != "1":
                raise UnsupportedVersion(
                    "Message version %s is not supported (1.x)" % version)
            method = msg.get("method")
            msg_id = msg_id or msg.get("msg_id")
            ctxt = RequestContext.from_dict(msg.get("context"))
            request_id = ctxt.request_id
            LOG.debug("Handling RPC %s %s.%s msg_id=%s request_id=%s",
                      "call" if reply_to else "cast", self.topic, method,
                      msg_id, request_id)
            result = self.dispatcher.dispatch(ctxt, method,
                                              msg.get("args") or {})
        except NoSuchMethod as exc:
            LOG.error("%r: no endpoint has method %r (msg_id=%s "
                      "request_id=%s); dropping the request", self, method,
                      msg_id, request_id)
            failure = failure_dict(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            LOG.exception("RPC handler %s.%s failed (msg_id=%s "
                          "request_id=%s)", self.topic, method, msg_id,
                          request_id)
            failure = failure_dict(exc)
        if reply_to:
            self._reply(reply_to, msg_id, result, failure, method,
                        request_id)
        self._ack(channel, delivery_tag, method, request_id)

    def _reply(self, reply_to, msg_id, result, failure, method, request_id):
        try:
            body = serializer.dumps({"msg_id": msg_id, "result": result,
                                     "failure": failure})
        except TypeError as exc:
            LOG.error("Result of %s.%s cannot be serialized (%s; "
                      "request_id=%s)", self.topic, method, exc, request_id)
            body = serializer.dumps({"msg_id": msg_id, "result": None,
                                     "failure": failure_dict(exc)})
        props = pika.BasicProperties(content_type=CONTENT_TYPE,
                                     correlation_id=msg_id, delivery_mode=1)
        give_up = time.monotonic() + REPLY_QUEUE_WAIT
        pause = REPLY_RETRY_PAUSE
        while True:
            try:
                self.transport.publish(
                    "", reply_to, body, props, mandatory=True,
                    deadline=time.monotonic() + REPLY_TIMEOUT)
                return
            except MessageUndeliverable:
                if time.monotonic() + pause > give_up:
                    LOG.info("Reply queue %s of %s.%s is gone (caller exited?); "
                             "reply dropped after %.0f s (request_id=%s)", reply_to,
                             self.topic, method, REPLY_QUEUE_WAIT, request_id)
                    return
                LOG.warning("Reply queue %s of %s.%s does not exist (its broker "
                            "node died?); retrying in %.2f s (request_id=%s)",
                            reply_to, self.topic, method, pause, request_id)
                time.sleep(pause)
                pause = min(pause * 2, REPLY_RETRY_PAUSE_MAX)
            except MessageDeliveryFailure as exc:
                LOG.error("Could not send the reply of %s.%s to %s: %s "
                          "(request_id=%s)", self.topic, method, reply_to, exc,
                          request_id)
                return

    def _ack(self, channel, delivery_tag, method, request_id):
        with self._lock:
            conn, current = self._conn, self._channel
        if conn is None or channel is not current:
            LOG.warning("%r: cannot ack %s.%s (request_id=%s): its "
                        "connection is gone; the broker will redeliver it",
                        self, self.topic, method, request_id)
            return
        try:
            conn.add_callback_threadsafe(
                functools.partial(self._do_ack, channel, delivery_tag))
        except pika.exceptions.AMQPError:
            LOG.warning("%r: connection closed before %s.%s (request_id=%s) "
                        "was acked; the broker will redeliver it", self,
                        method, request_id)

    @staticmethod
    def _do_ack(channel, delivery_tag):
        """I/O thread: ack if the channel is still the one of the delivery."""
        if channel.is_open:
            try:
                channel.basic_ack(delivery_tag)
            except connection_mod.CONNECTION_ERRORS as exc:
                LOG.warning("Ack of delivery %s failed: %s", delivery_tag,
                            connection_mod._describe(exc))
