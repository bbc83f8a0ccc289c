"""Errors raised by the RPC layer.

The names follow oslo.messaging, which Nova uses, so that code written
against Nova's behaviour reads the same here:

* :class:`MessagingTimeout` – a call got no reply in time.
* :class:`RemoteError` – the remote handler raised; carries the remote
  exception's type name, message and traceback text.
* :class:`MessageDeliveryFailure` – a publish was not confirmed by the
  broker (nack, or connection lost on every retry).
* :class:`MessageUndeliverable` – the broker returned a mandatory message
  because no queue is bound for its routing key (no server ever listened on
  that topic/server).
* :class:`MessagingConnectionError` – no host of the transport URL could be
  reached before the deadline.
* :class:`InvalidTransportURL` – a malformed ``transport_url`` (also a
  :class:`ValueError`).
"""


class MessagingException(Exception):
    """Base class of every error of :mod:`controlplane.rpc`."""


class InvalidTransportURL(MessagingException, ValueError):
    """The transport URL cannot be parsed; the message says why."""


class MessagingTimeout(MessagingException):
    """No reply arrived for a call within its timeout (seconds)."""


class MessageDeliveryFailure(MessagingException):
    """The broker did not confirm a published message."""


class MessageUndeliverable(MessageDeliveryFailure):
    """A mandatory message was returned as unroutable.

    :ivar exchange: exchange the message was published to.
    :ivar routing_key: its routing key (e.g. ``compute.host1``).
    """

    def __init__(self, exchange, routing_key, message=None):
        self.exchange = exchange
        self.routing_key = routing_key
        super().__init__(
            message or "No queue is bound to exchange %r for routing key %r "
            "(is a server for this topic running?)" % (exchange, routing_key))


class MessagingConnectionError(MessageDeliveryFailure):
    """No host of the transport URL accepted a connection in time."""


class UnsupportedVersion(MessagingException):
    """A message carries a version this server cannot handle."""


class NoSuchMethod(MessagingException, AttributeError):
    """No endpoint of the server has a public method of the requested name."""

    def __init__(self, method):
        self.method = method
        super().__init__("Endpoint does not support RPC method %s" % method)


class RemoteError(MessagingException):
    """The remote handler of a call raised an exception.

    :param exc_type: class name of the remote exception (e.g.
        ``"NoValidHost"``); compare with it to react to a given error.
    :param value: ``str()`` of the remote exception.
    :param traceback_text: the formatted remote traceback (may be empty).
    :param exc_module: module of the remote exception class, if known.
    """

    def __init__(self, exc_type=None, value=None, traceback_text=None,
                 exc_module=None):
        self.exc_type = exc_type
        self.value = value
        self.traceback = traceback_text
        self.exc_module = exc_module
        super().__init__("Remote error: %s %s\n%s" % (
            exc_type, value, traceback_text or ""))

    @property
    def traceback_text(self):
        return self.traceback
