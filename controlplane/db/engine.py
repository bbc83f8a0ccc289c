"""Engines, transactions and the Galera retry policy.

Galera is not a single database (see docs/architecture.md): a transaction
can be aborted by certification on commit (reported as deadlock 1213), a
node can leave (lost connection 2006/2013, WSREP not ready 1047). Every
public function of ``controlplane.db`` that opens its own connection, reads
included, therefore runs under :func:`retry_on_db_error`, which re-runs it
from the start: when HAProxy's writer dies, connections open on it and new
connects accepted before its check marks it down fail with 2013 for a
second or two, and an API read there must wait, not answer 500. (Functions
taking a ``conn`` run inside their caller's transaction and its retry.)
"""
import functools
import logging
import threading
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
import tenacity

from controlplane import netutils
from controlplane.conf import CONF

LOG = logging.getLogger(__name__)

CELL0_UUID = "00000000-0000-0000-0000-000000000000"

# MySQL/MariaDB error codes after which the whole transaction is re-run.
RETRY_ERRNOS = {
    1213,  # ER_LOCK_DEADLOCK, also Galera certification failure
    1205,  # ER_LOCK_WAIT_TIMEOUT
    1047,  # ER_UNKNOWN_COM_ERROR: WSREP has not yet prepared node for application use
    1180,  # error during commit (wsrep)
    2003,  # can't connect
    2006,  # server has gone away
    2013,  # lost connection during query
    4031,  # disconnected by the server (inactivity timeout)
}

_engines = {}
_engines_lock = threading.Lock()
#: ``active`` while this thread runs a function under retry_on_db_error.
_retrying = threading.local()


def _errno(exc):
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", None) or ()
    if args and isinstance(args[0], int):
        return args[0]
    return None


def is_retryable(exc):
    """True for an error after which re-running the transaction is right."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return _errno(exc) in RETRY_ERRNOS
    return False


def retry_on_db_error(func=None, *, attempts=None):
    """Decorate a function that runs one whole transaction.

    On a retryable error (see :data:`RETRY_ERRNOS`) the function is called
    again from the start, with exponential back-off and jitter (10 ms up to
    1 s), at most ``[database] max_retries`` times; then the last error is
    raised. The function must therefore open its own transaction.

    Nested calls (a decorated function calling another) retry only at the
    outermost one, which re-runs everything: attempts do not multiply.
    """
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if getattr(_retrying, "active", False):
                return fn(*args, **kwargs)
            _retrying.active = True
            try:
                return _run_with_retries(fn, args, kwargs)
            finally:
                _retrying.active = False

        def _run_with_retries(fn, args, kwargs):
            n = attempts or CONF.database.max_retries
            retrying = tenacity.Retrying(
                retry=tenacity.retry_if_exception(is_retryable),
                stop=tenacity.stop_after_attempt(n),
                wait=tenacity.wait_random_exponential(multiplier=0.01, max=1.0),
                before_sleep=lambda rs: LOG.warning(
                    "%s: retrying after database error (attempt %d): %s",
                    fn.__qualname__, rs.attempt_number, rs.outcome.exception()),
                reraise=True)
            return retrying(fn, *args, **kwargs)
        return wrapper
    if func is not None:
        return decorate(func)
    return decorate


def mysql_connect_args(opts):
    """PyMySQL ``connect()`` arguments from a database option group:
    ``read_timeout``/``write_timeout`` of ``socket_timeout`` seconds
    (none when 0)."""
    if not opts.socket_timeout:
        return {}
    return {"read_timeout": opts.socket_timeout, "write_timeout": opts.socket_timeout}


def _watch_dead_peers(engine, seconds):
    """Set :func:`controlplane.netutils.apply_dead_peer_options` on every
    new DBAPI connection of ``engine`` (PyMySQL keeps its socket in
    ``_sock``; a driver without one is left as it is)."""
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        netutils.apply_dead_peer_options(getattr(dbapi_connection, "_sock", None), seconds)


def get_engine(url, group="database"):
    """Return the process-wide engine for ``url`` (created on first use).

    Connections are pre-pinged, recycled after
    ``connection_recycle_time``, bound by ``socket_timeout`` and
    ``tcp_user_timeout`` (a query whose server vanished fails instead of
    hanging) and use READ COMMITTED so that
    a recount inside a transaction sees rows committed by others.
    """
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            opts = getattr(CONF, group)
            kwargs = {"pool_pre_ping": True, "future": True}
            if url.startswith("mysql"):
                kwargs.update(pool_size=opts.max_pool_size, max_overflow=opts.max_overflow,
                              pool_timeout=opts.pool_timeout,
                              pool_recycle=opts.connection_recycle_time,
                              isolation_level="READ COMMITTED",
                              connect_args=mysql_connect_args(opts))
            engine = sa.create_engine(url, **kwargs)
            if url.startswith("mysql") and opts.tcp_user_timeout:
                _watch_dead_peers(engine, opts.tcp_user_timeout)
            _engines[url] = engine
        return engine


def api_engine():
    """Engine of the API database (``[api_database] connection``)."""
    return get_engine(CONF.api_database.connection, "api_database")


def cell_engine(cell_mapping=None):
    """Engine of a cell database.

    :param cell_mapping: dict with ``database_connection`` (a row of
        ``cell_mappings``); None means this host's cell, ``[database] connection``.
    """
    if cell_mapping is None:
        return get_engine(CONF.database.connection, "database")
    return get_engine(cell_mapping["database_connection"], "database")


def dispose_all():
    """Drop every pooled connection (after fork, or at shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def new_uuid():
    return str(uuidlib.uuid4())


def row_to_dict(row):
    """A SQLAlchemy Row or ORM object as a plain dict (None stays None)."""
    if row is None:
        return None
    if hasattr(row, "_mapping"):
        return dict(row._mapping)
    return {c.key: getattr(row, c.key) for c in sa.inspect(row).mapper.column_attrs}
