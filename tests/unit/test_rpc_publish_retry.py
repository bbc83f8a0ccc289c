"""Transport.publish retries: a nacked publish is retried with a growing
pause until the deadline (quorum-queue leader election), connection
errors a bounded number of times (controlplane/rpc/transport.py)."""
import time

import pika.exceptions
import pytest

from controlplane.rpc import transport as transport_mod
from controlplane.rpc.exceptions import MessageDeliveryFailure


class FakeChannel:
    def __init__(self, errors):
        self.errors = list(errors)
        self.published = []

    def basic_publish(self, exchange, routing_key, body, properties, mandatory=True):
        if self.errors:
            raise self.errors.pop(0)
        self.published.append((exchange, routing_key, body))


class FakePublisher:
    def __init__(self, channel):
        self.channel = channel
        self.resets = 0
        self.last_ok = None

    def get_channel(self, deadline):
        return self.channel

    def ensure_exchange(self, exchange, exchange_type):
        pass

    def reset(self):
        self.resets += 1


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(transport_mod.time, "sleep", slept.append)
    return slept


def _transport(monkeypatch, channel):
    t = transport_mod.Transport("rabbit://u:p@h1:5672,u:p@h2:5672/vh")
    pub = FakePublisher(channel)
    monkeypatch.setattr(t, "_publisher", lambda: pub)
    return t, pub


def test_nacks_are_retried_with_growing_pauses(monkeypatch, sleeps):
    nack = pika.exceptions.NackError([])
    channel = FakeChannel([nack] * 6)
    t, _pub = _transport(monkeypatch, channel)
    t.publish("controlplane", "compute.cmp2", b"{}", None, deadline=time.monotonic() + 60)
    assert channel.published == [("controlplane", "compute.cmp2", b"{}")]
    # more nacks than hosts + 1: still delivered; pauses double up to the cap
    assert sleeps == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]


def test_nacks_until_the_deadline_fail(monkeypatch, sleeps):
    channel = FakeChannel([pika.exceptions.NackError([])] * 100)
    t, _pub = _transport(monkeypatch, channel)
    with pytest.raises(MessageDeliveryFailure, match="refused by the broker"):
        t.publish("controlplane", "compute.cmp2", b"{}", None, deadline=time.monotonic() + 0.5)
    assert channel.published == []
    # (sleep is faked: no time passes) the next pause, 0.8 s, would end past the deadline
    assert sleeps == [0.1, 0.2, 0.4]


def test_connection_errors_are_bounded_by_the_hosts(monkeypatch, sleeps):
    channel = FakeChannel([pika.exceptions.StreamLostError("lost")] * 10)
    t, pub = _transport(monkeypatch, channel)
    with pytest.raises(MessageDeliveryFailure, match="failed 3 time"):
        t.publish("controlplane", "compute.cmp2", b"{}", None, deadline=time.monotonic() + 60)
    assert pub.resets == 3
    assert sleeps == []
