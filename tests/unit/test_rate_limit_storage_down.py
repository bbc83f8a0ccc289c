"""The rate limiter fails open when its counter storage is unreachable
(a memcached host lost with its controller), and still limits with it."""
import logging
import socket
import uuid

import pytest

from controlplane.api.middleware import rate_limit


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _call(mw, token="tok"):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    body = b"".join(mw({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_AUTH_TOKEN": token},
                       start_response))
    return int(seen["status"].split()[0]), body


@pytest.mark.parametrize("hosts", [1, 2])
def test_unreachable_memcached_lets_requests_through(hosts, caplog):
    uri = "memcached://" + ",".join("127.0.0.1:%d" % _closed_port() for _ in range(hosts))
    mw = rate_limit.RateLimit(_app, "1/minute", uri)
    with caplog.at_level(logging.WARNING, logger=rate_limit.LOG.name):
        results = [_call(mw) for _ in range(3)]
    assert results == [(200, b"ok")] * 3
    warnings = [r for r in caplog.records if "storage unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per STORAGE_WARN_INTERVAL_S, not per request


def test_memcached_options_are_short_timeouts():
    assert rate_limit.storage_options("memcached://a:11211,b:11211") == {
        "connect_timeout": rate_limit.MEMCACHED_TIMEOUT_S,
        "timeout": rate_limit.MEMCACHED_TIMEOUT_S}
    assert rate_limit.storage_options("memory://") == {}


def test_memory_storage_still_limits():
    mw = rate_limit.RateLimit(_app, "2/minute", "memory://")
    assert [_call(mw)[0] for _ in range(3)] == [200, 200, 429]


def test_memcached_storage_still_limits():
    """With the devenv's memcached on 127.0.0.1:11211 (tools/devenv)."""
    mw = rate_limit.RateLimit(_app, "2/minute", "memcached://127.0.0.1:11211")
    token = uuid.uuid4().hex
    assert [_call(mw, token)[0] for _ in range(3)] == [200, 200, 429]
