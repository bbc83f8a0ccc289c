"""Dispatching an RPC request to an endpoint method, with log context.

An RPC server has a list of *endpoints* (manager objects). A request for
``method`` goes to the first endpoint that has a public (not ``_``-prefixed)
callable attribute of that name, called as ``method(ctxt, **args)`` with a
:class:`~controlplane.context.RequestContext` — oslo.messaging's
``RPCDispatcher`` behaviour.

While a handler runs, :func:`current_context` returns its context, and
:class:`RequestIdLogFilter` puts ``request_id`` (and ``user_id``,
``project_id``) on every log record so a format string such as
``"%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"`` ties
the log lines of all services to the API request.
"""
import contextvars
import logging
import traceback

from controlplane.context import RequestContext
from controlplane.rpc.exceptions import NoSuchMethod

LOG = logging.getLogger(__name__)

_current = contextvars.ContextVar("controlplane_rpc_context", default=None)


def current_context():
    """The RequestContext of the RPC handler running in this thread, or None."""
    return _current.get()


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id``, ``user_id`` and ``project_id`` to log records.

    Values come from the record itself if the caller set them (``extra=``),
    else from the running RPC handler's context, else ``"-"``. Attach it to
    a handler: ``handler.addFilter(RequestIdLogFilter())``.
    """

    def filter(self, record):
        ctxt = _current.get()
        for attr in ("request_id", "user_id", "project_id"):
            if not hasattr(record, attr):
                value = getattr(ctxt, attr, None) if ctxt else None
                setattr(record, attr, value or "-")
        return True


def failure_dict(exc):
    """Wire form of a handler exception for a call's reply."""
    return {
        "exc_type": type(exc).__name__,
        "exc_module": type(exc).__module__,
        "value": str(exc),
        "traceback": "".join(traceback.format_exception(
            type(exc), exc, exc.__traceback__)),
    }


class RPCDispatcher:
    """Finds and runs the endpoint method of a request.

    :param endpoints: objects whose public methods are the RPC methods.
    """

    def __init__(self, endpoints):
        self.endpoints = list(endpoints)

    def find(self, method):
        """The bound method for ``method``.

        :raises NoSuchMethod: no endpoint has a public callable of that name.
        """
        if not isinstance(method, str) or not method \
                or method.startswith("_"):
            raise NoSuchMethod(method)
        for endpoint in self.endpoints:
            func = getattr(endpoint, method, None)
            if callable(func):
                return func
        raise NoSuchMethod(method)

    def dispatch(self, ctxt, method, args):
        """Run ``method(ctxt, **args)`` and return its result.

        :param ctxt: RequestContext or its dict form.
        :raises NoSuchMethod: unknown method.
        :raises Exception: whatever the handler raises.
        """
        if not isinstance(ctxt, RequestContext):
            ctxt = RequestContext.from_dict(ctxt)
        func = self.find(method)
        token = _current.set(ctxt)
        try:
            return func(ctxt, **(args or {}))
        finally:
            _current.reset(token)
