"""retry_on_db_error re-runs a whole transaction on Galera's retryable errors only."""
import contextlib
import socket

import pytest
from sqlalchemy import exc as sa_exc

from controlplane.db import engine as db_engine


class _Orig(Exception):
    pass


def _dbapi_error(errno):
    return sa_exc.OperationalError("stmt", {}, _Orig(errno, "boom"))


@pytest.mark.parametrize("errno", [1213, 1205, 1047, 2006, 2013])
def test_retryable_errors_are_retried(conf, errno):
    calls = []

    @db_engine.retry_on_db_error
    def txn():
        calls.append(1)
        if len(calls) < 3:
            raise _dbapi_error(errno)
        return "done"

    assert txn() == "done"
    assert len(calls) == 3


def test_other_errors_are_not_retried(conf):
    calls = []

    @db_engine.retry_on_db_error
    def txn():
        calls.append(1)
        raise _dbapi_error(1062)  # duplicate entry: a real answer, not a glitch

    with pytest.raises(sa_exc.OperationalError):
        txn()
    assert len(calls) == 1


def test_gives_up_after_max_retries(conf):
    conf.set_override("max_retries", 4, "database")
    calls = []

    @db_engine.retry_on_db_error
    def txn():
        calls.append(1)
        raise _dbapi_error(1213)

    with pytest.raises(sa_exc.OperationalError):
        txn()
    assert len(calls) == 4


def test_nested_calls_retry_only_at_the_outermost(conf):
    conf.set_override("max_retries", 3, group="database")
    inner_calls, outer_calls = [], []

    @db_engine.retry_on_db_error
    def read():
        inner_calls.append(1)
        raise _dbapi_error(2013)

    @db_engine.retry_on_db_error
    def txn():
        outer_calls.append(1)
        return read()

    with pytest.raises(sa_exc.OperationalError):
        txn()
    # 3 attempts of the whole, not 3 x 3
    assert len(outer_calls) == 3 and len(inner_calls) == 3
    # and the thread is no longer marked as retrying afterwards
    with pytest.raises(sa_exc.OperationalError):
        read()
    assert len(inner_calls) == 6


def test_reads_retry_a_lost_connection():
    """Every public read of controlplane.db that opens its own connection is
    under retry_on_db_error (HAProxy's writer dying must not give 500s)."""
    import ast
    import pathlib
    missing = []
    for path in sorted(pathlib.Path(db_engine.__file__).parent.glob("*.py")):
        if path.name == "migration.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            body = ast.unparse(node)
            args = [a.arg for a in node.args.args]
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if (".connect()" in body or ".begin()" in body) and "conn" not in args \
                    and not any("retry_on_db_error" in d for d in decorators):
                missing.append("%s:%s" % (path.name, node.name))
    assert missing == []


def test_mysql_sockets_are_bounded(conf):
    # A query to a server fenced behind the VIP must time out (2013, retried),
    # not block its thread for good (a compute's heartbeat stopped so).
    opts = conf.database
    assert db_engine.mysql_connect_args(opts) == {
        "read_timeout": opts.socket_timeout, "write_timeout": opts.socket_timeout}
    assert opts.socket_timeout == 30
    conf.set_override("socket_timeout", 0, group="database")
    assert db_engine.mysql_connect_args(conf.database) == {}



@contextlib.contextmanager
def _tcp_socket_of_a_new_connection(url):
    """The socket of a fresh pooled MySQL connection of ``get_engine(url)``
    (skips when the test server is reached through a unix socket)."""
    engine = db_engine.get_engine(url)
    try:
        with engine.connect() as conn:
            sock = conn.connection.dbapi_connection._sock
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                pytest.skip("the test server is reached through a unix socket")
            yield sock
    finally:
        db_engine.dispose_all()


def test_mysql_connections_detect_a_dead_server(conf, mysql_server_url):
    # A query waiting for its answer when the VIP moved away from its HAProxy
    # gets no more packets: keepalive probes (reset by the VIP's new holder)
    # and TCP_USER_TIMEOUT end it within seconds instead of socket_timeout.
    assert conf.database.tcp_user_timeout == 5
    with _tcp_socket_of_a_new_connection(mysql_server_url + "/") as sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 5
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 5
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 5000


def test_tcp_user_timeout_zero_keeps_kernel_defaults(conf, mysql_server_url):
    conf.set_override("tcp_user_timeout", 0, group="database")
    with _tcp_socket_of_a_new_connection(mysql_server_url + "/") as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 0
