"""controlplane.rpc.reply.check_consumed: the reply listener's periodic
check that its queue exists and still has a consumer (a consumer the broker
dropped without basic.cancel must make the listener reconnect)."""
from types import SimpleNamespace

import pika.exceptions
import pytest

from controlplane.rpc import reply


class FakeChannel:
    def __init__(self, consumers=None):
        self.consumers = consumers
        self.declared = []

    def queue_declare(self, queue, passive=False):
        self.declared.append((queue, passive))
        if self.consumers is None:
            raise pika.exceptions.ChannelClosedByBroker(404, "NOT_FOUND - no queue")
        return SimpleNamespace(method=SimpleNamespace(consumer_count=self.consumers))


def test_queue_with_our_consumer_passes_and_is_only_looked_at():
    ch = FakeChannel(consumers=1)
    reply.check_consumed(ch, "reply_x")
    assert ch.declared == [("reply_x", True)]


def test_queue_without_consumer_raises_a_connection_error():
    with pytest.raises(pika.exceptions.ChannelClosed) as info:
        reply.check_consumed(FakeChannel(consumers=0), "reply_x")
    assert "lost its consumer" in str(info.value)
    from controlplane.rpc import connection
    assert isinstance(info.value, connection.CONNECTION_ERRORS)


def test_missing_queue_raises_channel_closed_by_broker():
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        reply.check_consumed(FakeChannel(consumers=None), "reply_x")
