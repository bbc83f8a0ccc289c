"""Logging set-up shared by every controlplane service.

Every log line carries the request id of the request being served
(``req-<uuid>``, as ``X-OpenStack-Request-Id`` and the RPC context carry
it), or ``-`` outside a request, so that one request can be followed
through api → conductor → scheduler → compute with ``grep``. This follows
oslo.log's ``logging_context_format_string`` idea without oslo.log.

Use :func:`setup_logging` once at start of a service and
:func:`request_context` (or :func:`set_request_id`) around the handling of
one request; the id is kept in a :mod:`contextvars` variable, so each
thread (RPC executor worker) has its own.
"""
import contextlib
import contextvars
import logging
import logging.handlers
import sys

_request_id = contextvars.ContextVar("controlplane_request_id", default=None)

LOG_FORMAT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
              "[%(request_id)s] %(message)s")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def get_request_id():
    """The request id of the current thread/context, or None."""
    return _request_id.get()


def set_request_id(request_id):
    """Set the request id of the current context; returns a reset token."""
    return _request_id.set(request_id)


@contextlib.contextmanager
def request_context(ctxt):
    """Within the block every log line carries ``ctxt.request_id``.

    :param ctxt: a :class:`controlplane.context.RequestContext`, a dict with
        ``request_id``, or None (leaves the id unchanged).
    """
    if ctxt is None:
        yield
        return
    rid = ctxt.get("request_id") if isinstance(ctxt, dict) else getattr(ctxt, "request_id", None)
    token = _request_id.set(rid)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` when no request is being served)."""

    def filter(self, record):
        if getattr(record, "request_id", None) in (None, "-"):
            rid = _request_id.get()
            if rid is None:
                rid = _rpc_request_id()
            record.request_id = rid or "-"
        return True


def _rpc_request_id():
    """Request id of the RPC handler running in this thread, if any."""
    try:
        from controlplane.rpc.dispatcher import current_context
    except ImportError:  # pragma: no cover - rpc package not installed
        return None
    ctxt = current_context()
    return getattr(ctxt, "request_id", None) if ctxt is not None else None


def setup_logging(conf=None, program=None):
    """Configure the root logger from ``[DEFAULT] debug`` and ``log_file``.

    :param conf: the parsed ``CONF`` (defaults to ``controlplane.conf.CONF``).
    :param program: name logged in the start line.
    Level is DEBUG with ``debug = true``, else INFO; output goes to
    ``log_file`` (a WatchedFileHandler, so logrotate works) or stderr.
    Noisy libraries (pika, sqlalchemy, urllib3) stay at WARNING unless
    debugging. Calling it twice replaces the handler, never duplicates it.
    """
    if conf is None:
        from controlplane.conf import CONF as conf  # noqa: N811
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_controlplane", False):
            root.removeHandler(handler)
    log_file = getattr(conf, "log_file", None)
    if log_file:
        handler = logging.handlers.WatchedFileHandler(log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler._controlplane = True
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    debug = bool(getattr(conf, "debug", False))
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("pika", "sqlalchemy", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    if program:
        logging.getLogger(__name__).info("%s starting (debug=%s)", program, debug)
    return root
