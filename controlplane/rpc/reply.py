"""The per-process reply queue that collects the replies of RPC calls.

One :class:`ReplyListener` per transport and process owns a background
thread with its own connection, consuming the queue ``reply_<uuid4 hex>``.
A call registers its ``msg_id`` (which is also the AMQP ``correlation_id``),
publishes with ``reply_to`` set to the queue, and blocks on a
``threading.Event`` that the listener sets when the reply arrives: no
polling, and any number of threads can wait at once.

The queue is a classic, non-exclusive, non-auto-delete queue with an
``x-expires`` lease (oslo.messaging's reply queues work the same way): when
the listener's connection drops, the queue and any replies sent meanwhile
stay on the broker and are consumed after the reconnect; the broker deletes
the queue on its own once no process used it for the lease time.

A consumer can also be lost without a word: when the listener reconnects
to another node right after the queue's node died, the re-declare may still
find the dead node's queue, and once the cluster drops that queue the
broker keeps the consumer as "to be recovered" (its classic-queue fail-over
behaviour) instead of cancelling it. Replies then come back unroutable
while the listener waits for ever. So the listener checks its queue every
``QUEUE_CHECK_INTERVAL`` seconds (a passive ``queue.declare``): a missing
queue or one without consumers makes it reconnect and declare it again.
"""
import logging
import os
import threading
import time
import uuid

import pika.exceptions

from controlplane.conf import CONF
from controlplane.rpc import connection as connection_mod
from controlplane.rpc import serializer

LOG = logging.getLogger(__name__)

#: Seconds of one wait of the listener loop (bounds stop latency).
POLL_INTERVAL = 0.5
#: Seconds between checks that the reply queue exists and has our consumer.
QUEUE_CHECK_INTERVAL = 2.0


class _Waiter:
    """One pending call: the event is set once ``reply`` holds the reply."""
    __slots__ = ("event", "reply")

    def __init__(self):
        self.event = threading.Event()
        self.reply = None


class ReplyListener:
    """Background consumer of this process's reply queue.

    :param url: the :class:`~controlplane.rpc.url.TransportURL` to use.
    :ivar queue: name of the reply queue, ``reply_<uuid hex>``.
    """

    def __init__(self, url):
        self.url = url
        self.queue = "reply_%s" % uuid.uuid4().hex
        self.pid = os.getpid()
        self._waiters = {}
        self._lock = threading.Lock()
        self._declared = threading.Event()
        self._stopping = threading.Event()
        self._connection = None
        self._thread = threading.Thread(
            target=self._run, name="rpc-reply-listener", daemon=True)

    # -- used by callers -------------------------------------------------
    def start(self):
        """Start the listener thread (returns at once)."""
        self._thread.start()

    def is_alive(self):
        """True while the listener thread runs in this very process."""
        return self.pid == os.getpid() and self._thread.is_alive() \
            and not self._stopping.is_set()

    def wait_ready(self, timeout):
        """Wait up to ``timeout`` seconds until the reply queue exists.

        :returns: True when the queue has been declared at least once.
        """
        return self._declared.wait(max(0.0, timeout))

    def register(self, msg_id):
        """Expect a reply for ``msg_id``; returns the waiter to block on."""
        waiter = _Waiter()
        with self._lock:
            self._waiters[msg_id] = waiter
        return waiter

    def unregister(self, msg_id):
        """Forget ``msg_id`` (a reply arriving later is dropped)."""
        with self._lock:
            self._waiters.pop(msg_id, None)

    def stop(self, delete_queue=True, timeout=5.0):
        """Stop the thread; delete the reply queue unless told otherwise."""
        self._delete_on_stop = delete_queue
        self._stopping.set()
        conn = self._connection
        if conn is not None:
            try:
                conn.add_callback_threadsafe(lambda: None)  # wake the loop
            except Exception:  # noqa: BLE001 - already closed
                pass
        if self._thread.is_alive() and \
                self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- listener thread ---------------------------------------------------
    def _expires_ms(self):
        return int(max(600, 2 * CONF.rpc_response_timeout) * 1000)

    def _run(self):
        delay = connection_mod.BACKOFF_START
        while not self._stopping.is_set():
            conn = None
            try:
                conn, host = connection_mod.connect(
                    self.url, stop_event=self._stopping,
                    name="controlplane-reply:%d" % os.getpid())
                self._connection = conn
                channel = conn.channel()
                channel.queue_declare(
                    self.queue, durable=False, exclusive=False,
                    auto_delete=False,
                    arguments={"x-expires": self._expires_ms(),
                               "x-queue-type": "classic"})
                tag = channel.basic_consume(self.queue, self._on_message,
                                            auto_ack=True)
                self._declared.set()
                delay = connection_mod.BACKOFF_START
                LOG.debug("Consuming RPC replies from %s on %s",
                          self.queue, host)
                next_check = time.monotonic() + QUEUE_CHECK_INTERVAL
                while not self._stopping.is_set():
                    conn.process_data_events(time_limit=POLL_INTERVAL)
                    if not channel.consumer_tags:
                        raise pika.exceptions.ChannelClosed(
                            404, "reply consumer cancelled by the broker")
                    if time.monotonic() >= next_check:
                        check_consumed(channel, self.queue)
                        next_check = time.monotonic() + QUEUE_CHECK_INTERVAL
                if getattr(self, "_delete_on_stop", True):
                    try:
                        channel.basic_cancel(tag)
                        channel.queue_delete(self.queue)
                    except connection_mod.CONNECTION_ERRORS:
                        pass
            except connection_mod.CONNECTION_ERRORS as exc:
                if self._stopping.is_set():
                    break
                LOG.warning("RPC reply connection lost (%s); reconnecting in "
                            "%.1f s; replies wait in %s meanwhile",
                            connection_mod._describe(exc), delay, self.queue)
                self._stopping.wait(delay)
                delay = min(delay * 2, connection_mod.BACKOFF_MAX)
            except Exception:  # noqa: BLE001 - keep the listener alive
                if self._stopping.is_set():
                    break
                LOG.exception("Unexpected error in the RPC reply listener; "
                              "restarting it")
                self._stopping.wait(delay)
                delay = min(delay * 2, connection_mod.BACKOFF_MAX)
            finally:
                self._connection = None
                connection_mod.close_quietly(conn)

    def _on_message(self, channel, method, properties, body):
        msg_id = properties.correlation_id
        try:
            reply = serializer.loads(body)
        except ValueError:
            LOG.error("Dropping an RPC reply that is not JSON (msg_id %s)",
                      msg_id)
            return
        if not msg_id and isinstance(reply, dict):
            msg_id = reply.get("msg_id")
        with self._lock:
            waiter = self._waiters.pop(msg_id, None)
        if waiter is None:
            LOG.info("Dropping the reply to call %s: nobody waits for it "
                     "any more (timed out?)", msg_id)
            return
        waiter.reply = reply
        waiter.event.set()


def check_consumed(channel, queue):
    """Raise unless ``queue`` exists on the broker with at least one consumer.

    :param channel: an open ``BlockingChannel`` that consumes ``queue``.
    :raises pika.exceptions.ChannelClosedByBroker: (404) the queue is gone
        (the channel is closed by the broker).
    :raises pika.exceptions.ChannelClosed: the queue has no consumer: ours
        was dropped without a ``basic.cancel``.
    """
    ok = channel.queue_declare(queue, passive=True)
    if ok.method.consumer_count < 1:
        raise pika.exceptions.ChannelClosed(
            404, "reply queue %s has lost its consumer" % queue)
