"""Integration tests of controlplane.rpc against the real RabbitMQ.

Every test module run uses its own vhost ``test_rpc_<hex>`` (created with
rabbitmqctl, deleted afterwards) and every test its own topic, so nothing
here touches other users of the broker. The broker itself is never stopped:
connection loss is simulated with ``rabbitmqctl close_all_connections`` on
our vhost only.
"""
import datetime
import logging
import os
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from controlplane.context import RequestContext
from controlplane.rpc import (MessageUndeliverable, MessagingConnectionError,
                              MessagingTimeout, RemoteError, RPCClient,
                              RPCServer, TransportURL, cleanup_transports,
                              serializer)
from controlplane.rpc import connection as connection_mod

pytestmark = pytest.mark.integration

RABBIT = os.environ.get("CONTROLPLANE_TEST_RABBIT", "guest:guest@127.0.0.1:5672")
DEAD = "guest:guest@127.0.0.1:5999"


def rabbitmqctl(*args):
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        pytest.fail("rabbitmqctl not found: RabbitMQ must run on this machine")
    return subprocess.run([exe, "-q", *args], check=True,
                          capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def vhost():
    name = "test_rpc_" + uuid.uuid4().hex[:8]
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    cleanup_transports()
    try:
        rabbitmqctl("delete_vhost", name)
    except subprocess.CalledProcessError:
        pass


@pytest.fixture(scope="module")
def url(vhost):
    return "rabbit://%s/%s" % (RABBIT, vhost)


@pytest.fixture
def topic():
    return "t_" + uuid.uuid4().hex[:8]


@pytest.fixture
def ctxt():
    return RequestContext(user_id="u1", project_id="p1", roles=["member"])


@pytest.fixture
def make_server(url):
    servers = []

    def make(topic, server, endpoints, transport_url=None, threads=8):
        srv = RPCServer(transport_url or url, topic, server, endpoints,
                        executor_threads=threads)
        assert srv.start(ready_timeout=20)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop(graceful=False)
        srv.wait(5)


def queue_count(url, queue):
    """Ready messages in ``queue`` (passive declare on a new connection)."""
    parsed = TransportURL.parse(url)
    conn, _ = connection_mod.connect(parsed, deadline=time.monotonic() + 10)
    try:
        return conn.channel().queue_declare(
            queue, passive=True).method.message_count
    finally:
        conn.close()


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Manager:
    """A test endpoint recording what it handled."""

    def __init__(self, name="m"):
        self.name = name
        self.seen = []
        self.lock = threading.Lock()
        self.event = threading.Event()

    def ping(self, ctxt):
        return "pong"

    def echo(self, ctxt, **kwargs):
        return {"kwargs": kwargs, "request_id": ctxt.request_id,
                "user_id": ctxt.user_id, "server": self.name,
                "is_context": isinstance(ctxt, RequestContext)}

    def record(self, ctxt, value):
        with self.lock:
            self.seen.append(value)
        self.event.set()

    def add(self, ctxt, a, b):
        time.sleep(0.01)
        return a + b

    def fail(self, ctxt, text):
        raise ValueError(text)

    def slow(self, ctxt, seconds):
        time.sleep(seconds)
        return "late"

    def drop_queue(self, ctxt, url, queue):
        """Delete ``queue`` (the caller's reply queue) and answer at once."""
        conn, _ = connection_mod.connect(TransportURL.parse(url),
                                         deadline=time.monotonic() + 10)
        try:
            conn.channel().queue_delete(queue)
        finally:
            conn.close()
        return "answered"


# -- round trips -------------------------------------------------------------

def test_call_round_trip_with_context_and_datetime(url, topic, ctxt,
                                                   make_server):
    make_server(topic, "h1", [Manager("h1")])
    client = RPCClient(url, topic, timeout=10)
    when = datetime.datetime(2024, 2, 3, 4, 5, 6, 789)
    out = client.call(ctxt, "echo", x=1, when=when, items=("a", "b"))
    assert out["kwargs"] == {"x": 1, "when": when.isoformat(),
                             "items": ["a", "b"]}
    assert serializer.parse_datetime(out["kwargs"]["when"]) == when
    assert out["request_id"] == ctxt.request_id
    assert out["user_id"] == "u1"
    assert out["is_context"] is True
    # A plain dict context works too.
    assert client.call({"request_id": "req-x"}, "echo")["request_id"] == \
        "req-x"
    assert client.call(ctxt, "ping") == "pong"


def test_cast_and_server_directed_routing(url, topic, ctxt, make_server):
    m1, m2 = Manager("h1"), Manager("h2")
    make_server(topic, "h1", [m1])
    make_server(topic, "h2", [m2])
    client = RPCClient(url, topic)
    assert client.cast(ctxt, "record", server="h2", value="to-h2") is None
    assert m2.event.wait(10)
    assert m2.seen == ["to-h2"]
    assert client.prepare(server="h1").call(ctxt, "echo")["server"] == "h1"
    assert client.call(ctxt, "echo", server="h2")["server"] == "h2"
    # A shared-topic cast reaches exactly one of the servers.
    client.cast(ctxt, "record", value="any")
    assert wait_for(lambda: (m1.seen + m2.seen).count("any") == 1)
    assert m1.seen == [] or m1.seen == ["any"]
    # Queues are durable quorum queues.
    listing = rabbitmqctl("list_queues", "-p", url.rsplit("/", 1)[1],
                          "name", "type", "durable")
    rows = {line.split()[0]: line.split()[1:] for line in
            listing.splitlines()[1:] if line.strip()}
    for name in (topic, topic + ".h1", topic + ".h2"):
        assert rows[name] == ["quorum", "true"]


def test_fanout_reaches_every_server(url, topic, ctxt, make_server):
    m1, m2 = Manager("h1"), Manager("h2")
    make_server(topic, "h1", [m1])
    make_server(topic, "h2", [m2])
    client = RPCClient(url, topic)
    client.fanout_cast(ctxt, "record", value="all")
    assert m1.event.wait(10) and m2.event.wait(10)
    assert m1.seen == ["all"] and m2.seen == ["all"]


def test_fanout_without_servers_is_not_an_error(url, topic, ctxt):
    RPCClient(url, topic).fanout_cast(ctxt, "record", value="nobody")


def test_cast_to_unknown_server_is_undeliverable(url, topic, ctxt,
                                                 make_server):
    make_server(topic, "h1", [Manager()])
    client = RPCClient(url, topic, timeout=5)
    with pytest.raises(MessageUndeliverable) as info:
        client.cast(ctxt, "record", server="nohost", value=1)
    assert info.value.routing_key == topic + ".nohost"
    with pytest.raises(MessageUndeliverable):
        client.call(ctxt, "ping", server="nohost")
    with pytest.raises(MessageUndeliverable):
        RPCClient(url, "never_" + topic).cast(ctxt, "ping")


def test_fifty_concurrent_calls_from_ten_threads(url, topic, ctxt,
                                                 make_server):
    make_server(topic, "h1", [Manager()], threads=8)
    make_server(topic, "h2", [Manager()], threads=8)
    client = RPCClient(url, topic, timeout=20)
    results, errors = {}, []

    def worker(t):
        try:
            for i in range(5):
                n = t * 100 + i
                results[n] = client.call(ctxt, "add", a=n, b=1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert len(results) == 50
    assert all(v == k + 1 for k, v in results.items())


def test_handler_calling_another_topic(url, topic, ctxt, make_server):
    """A handler running in the server pool can itself make calls (the
    conductor → scheduler pattern)."""
    inner_topic = topic + "_inner"
    make_server(inner_topic, "h1", [Manager("inner")])
    inner = RPCClient(url, inner_topic, timeout=10)

    class Relay:
        def relay(self, ctxt):
            return inner.call(ctxt, "echo")

    make_server(topic, "h1", [Relay()])
    out = RPCClient(url, topic, timeout=15).call(ctxt, "relay")
    assert out["server"] == "inner"
    assert out["request_id"] == ctxt.request_id


# -- errors ------------------------------------------------------------------

def test_call_timeout(url, topic, ctxt, make_server):
    make_server(topic, "h1", [Manager()])
    client = RPCClient(url, topic)
    with pytest.raises(MessagingTimeout):
        client.call(ctxt, "slow", timeout=0.3, seconds=1.5)
    # The late reply is dropped; the client keeps working.
    assert client.call(ctxt, "ping", timeout=10) == "pong"


def test_expired_request_is_not_run(url, topic, ctxt, make_server):
    """A call that timed out expires in the queue (per-message TTL)."""
    srv = make_server(topic, "h1", [Manager()])
    srv.stop()
    srv.wait(5)
    with pytest.raises(MessagingTimeout):
        RPCClient(url, topic).call(ctxt, "ping", timeout=0.3)
    assert wait_for(lambda: queue_count(url, topic) == 0, timeout=10)


def test_remote_error(url, topic, ctxt, make_server):
    make_server(topic, "h1", [Manager()])
    client = RPCClient(url, topic, timeout=10)
    with pytest.raises(RemoteError) as info:
        client.call(ctxt, "fail", text="bad flavor")
    err = info.value
    assert err.exc_type == "ValueError"
    assert err.value == "bad flavor"
    assert "Traceback" in err.traceback and "fail" in err.traceback
    # A failing cast is acked, not redelivered for ever.
    client.cast(ctxt, "fail", text="cast failure")
    assert client.call(ctxt, "ping") == "pong"
    assert wait_for(lambda: queue_count(url, topic) == 0)


def test_unknown_method(url, topic, ctxt, make_server):
    make_server(topic, "h1", [Manager()])
    client = RPCClient(url, topic, timeout=10)
    with pytest.raises(RemoteError) as info:
        client.call(ctxt, "no_such_method")
    assert info.value.exc_type == "NoSuchMethod"
    with pytest.raises(RemoteError):
        client.call(ctxt, "_private")
    client.cast(ctxt, "no_such_method")
    assert client.call(ctxt, "ping") == "pong"
    assert wait_for(lambda: queue_count(url, topic) == 0)


# -- acknowledgement ---------------------------------------------------------

class Blocking:
    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = []

    def work(self, ctxt, n):
        self.started.set()
        self.release.wait(15)
        self.finished.append(n)


def test_crashed_server_leaves_message_for_another(url, topic, ctxt,
                                                   make_server):
    a = Blocking()
    srv_a = make_server(topic, "a", [a])
    client = RPCClient(url, topic, timeout=10)
    client.cast(ctxt, "work", n=7)
    assert a.started.wait(10)
    srv_a.stop(graceful=False)          # connection gone mid-handler
    srv_a.wait(5)
    b = Manager("b")

    class B:
        def work(self, ctxt, n):
            b.record(ctxt, n)

    make_server(topic, "b", [B()])
    try:
        assert b.event.wait(10)
        assert b.seen == [7]
    finally:
        a.release.set()


def test_graceful_stop_finishes_and_acks(url, topic, ctxt, make_server):
    a = Blocking()
    srv = make_server(topic, "a", [a])
    RPCClient(url, topic, timeout=10).cast(ctxt, "work", n=1)
    assert a.started.wait(10)
    threading.Timer(0.3, a.release.set).start()
    srv.stop()                          # waits for the running handler
    srv.wait(10)
    assert a.finished == [1]
    assert queue_count(url, topic) == 0


# -- resilience --------------------------------------------------------------

def test_reconnect_after_connections_closed(url, vhost, topic, ctxt,
                                            make_server):
    m = Manager()
    srv = make_server(topic, "h1", [m])
    client = RPCClient(url, topic, timeout=20)
    assert client.call(ctxt, "ping") == "pong"
    client.cast(ctxt, "record", value="before")
    rabbitmqctl("close_all_connections", "-p", vhost, "test_rpc reconnect")
    # Publisher, reply listener and server all reconnect on their own.
    assert client.call(ctxt, "ping") == "pong"
    client.cast(ctxt, "record", value="after")
    assert wait_for(lambda: "after" in m.seen)
    assert wait_for(srv.is_consuming)
    # Calls from other threads (fresh and reused connections) work too.
    out = []
    ths = [threading.Thread(target=lambda: out.append(
        client.call(ctxt, "ping"))) for _ in range(4)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(30)
    assert out == ["pong"] * 4


def test_failover_to_second_host(vhost, topic, ctxt, make_server, caplog):
    url = "rabbit://%s,%s/%s" % (DEAD, RABBIT, vhost)
    make_server(topic, "h1", [Manager()], transport_url=url)
    client = RPCClient(url, topic, timeout=15)
    for _ in range(3):
        assert client.call(ctxt, "ping") == "pong"
    parsed = TransportURL.parse(url)
    with caplog.at_level(logging.WARNING, logger=connection_mod.__name__):
        for _ in range(2):  # the start host rotates: one try starts dead
            conn, host = connection_mod.connect(
                parsed, deadline=time.monotonic() + 10)
            conn.close()
            assert host.port == parsed.hosts[1].port
    assert any("127.0.0.1:5999" in r.getMessage() for r in caplog.records)


def test_unreachable_broker(topic, ctxt):
    url = "rabbit://%s/nowhere" % DEAD
    client = RPCClient(url, topic, timeout=0.5)
    with pytest.raises(MessagingTimeout):
        client.call(ctxt, "ping")
    with pytest.raises(MessagingConnectionError):
        client.cast(ctxt, "ping")


def test_publisher_survives_dead_idle_connection(url, vhost, topic, ctxt,
                                                 make_server):
    """An idle per-thread connection killed by the broker (as after missed
    heartbeats) is replaced on next use."""
    m = Manager()
    make_server(topic, "h1", [m])
    client = RPCClient(url, topic, timeout=15)
    client.cast(ctxt, "record", value=1)
    names = rabbitmqctl("list_connections", "-p", vhost,
                        "client_properties")
    publisher_lines = [line for line in names.splitlines()
                       if "controlplane-publisher" in line]
    assert publisher_lines
    rabbitmqctl("close_all_connections", "-p", vhost, "idle kill")
    client.cast(ctxt, "record", value=2)
    assert wait_for(lambda: 2 in m.seen, timeout=15)


def test_idle_connections_survive_heartbeat_timeout(vhost, topic, ctxt,
                                                    make_server):
    """With heartbeat=1 the broker drops idle per-thread publisher
    connections within seconds; the next call and cast still work."""
    url = "rabbit://%s/%s?heartbeat=1" % (RABBIT, vhost)
    m = Manager()
    make_server(topic, "h1", [m], transport_url=url)
    client = RPCClient(url, topic, timeout=15)
    assert client.call(ctxt, "ping") == "pong"
    time.sleep(4)                       # > 2 missed heartbeats
    assert client.call(ctxt, "ping") == "pong"
    client.cast(ctxt, "record", value="after-idle")
    assert wait_for(lambda: "after-idle" in m.seen)


def test_reply_to_a_vanished_reply_queue_is_retried(url, topic, ctxt,
                                                   make_server):
    """A reply returned unroutable (the caller's reply queue vanished with
    its broker node) is retried until the caller's listener has declared
    the queue again, instead of being dropped while the caller times out."""
    from controlplane.rpc import get_transport
    make_server(topic, "h1", [Manager()])
    client = RPCClient(url, topic, timeout=20)
    assert client.call(ctxt, "ping") == "pong"
    queue = get_transport(url).reply_listener(time.monotonic() + 5).queue
    assert client.call(ctxt, "drop_queue", url=url, queue=queue) == "answered"
    assert client.call(ctxt, "ping") == "pong"
