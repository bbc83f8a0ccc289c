"""Per-client rate limiting with the ``limits`` library ([rate_limit]).

Runs before token validation (rate limit → Keystone → policy → quota →
database → RPC), so the project is not known yet: the counter key is the
client address plus a hash of ``X-Auth-Token`` (or, with noauth2 and no
token, the claimed ``X-Project-Id``). Over the limit the answer is 429
``overLimit`` with ``Retry-After`` seconds. With ``storage_uri =
memcached://...`` all workers share the counters.

The limiter fails open: when its counter storage cannot be reached (a
memcached host powered off, as in a controller crash) the request goes on
uncounted and a warning is logged at most every STORAGE_WARN_INTERVAL_S;
a rate limiter must never turn a lost cache node into failed API calls.
Memcached connects and requests time out after MEMCACHED_TIMEOUT_S, and
pymemcache's HashClient drops a failing host from its ring for a while.
"""
import hashlib
import logging
import math
import time

import limits
from limits import storage as limits_storage
from limits import strategies

from controlplane.api import faults

LOG = logging.getLogger(__name__)

#: Seconds a memcached connect or request may take before the request goes
#: on uncounted (a dead host must not stall every request).
MEMCACHED_TIMEOUT_S = 0.5
#: Seconds between two warnings about unreachable counter storage.
STORAGE_WARN_INTERVAL_S = 30.0


def storage_options(storage_uri):
    """Client options for ``limits.storage.storage_from_string``: short
    connect/request timeouts for ``memcached://`` (pymemcache), none
    otherwise."""
    if storage_uri.startswith("memcached://"):
        return {"connect_timeout": MEMCACHED_TIMEOUT_S, "timeout": MEMCACHED_TIMEOUT_S}
    return {}


def client_key(environ):
    """The rate-limit key of a request (never contains the token itself)."""
    addr = environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip() or \
        environ.get("REMOTE_ADDR", "-")
    token = environ.get("HTTP_X_AUTH_TOKEN")
    if token:
        who = "t:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    else:
        who = "p:" + environ.get("HTTP_X_PROJECT_ID", "-")
    return "%s|%s" % (addr, who)


class RateLimit:
    """WSGI middleware applying ``limit_string`` (e.g. ``"100/second;1000/minute"``)."""

    def __init__(self, app, limit_string, storage_uri="memory://"):
        self.app = app
        self.items = limits.parse_many(limit_string)
        self.storage = limits_storage.storage_from_string(
            storage_uri, **storage_options(storage_uri))
        self.limiter = self._strategy(self.storage)
        self._last_storage_warning = 0.0

    @staticmethod
    def _strategy(storage):
        """Moving window where the storage supports it (memory://, redis);
        memcached only supports the sliding window counter."""
        if isinstance(storage, limits_storage.MovingWindowSupport):
            return strategies.MovingWindowRateLimiter(storage)
        if isinstance(storage, limits_storage.SlidingWindowCounterSupport):
            return strategies.SlidingWindowCounterRateLimiter(storage)
        return strategies.FixedWindowRateLimiter(storage)

    def _retry_after(self, key):
        """Seconds the client must wait (over a limit), or None."""
        for item in self.items:
            if not self.limiter.hit(item, "controlplane-api", key):
                stats = self.limiter.get_window_stats(item, "controlplane-api", key)
                retry = max(1, int(math.ceil(stats.reset_time - time.time())))
                LOG.warning("rate limit %s exceeded for %s; retry after %ds",
                            item, key, retry)
                return retry
        return None

    def __call__(self, environ, start_response):
        try:
            retry = self._retry_after(client_key(environ))
        except Exception as exc:  # the counter storage is unreachable: fail open
            now = time.monotonic()
            if now - self._last_storage_warning >= STORAGE_WARN_INTERVAL_S:
                self._last_storage_warning = now
                LOG.warning("rate limit storage unavailable, requests go on uncounted: %s",
                            exc)
            retry = None
        if retry is not None:
            err = faults.TooManyRequests(
                "This request was rate-limited.", headers={"Retry-After": str(retry)},
                extra={"retryAfter": str(retry)})
            return faults.wsgi_response(start_response, err)
        return self.app(environ, start_response)
