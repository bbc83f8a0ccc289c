"""Log every request: method, path, status, duration and request id."""
import logging
import time

LOG = logging.getLogger("controlplane.api.access")


class RequestLog:
    """WSGI middleware logging one INFO line per request after it finished.

    Must sit inside :class:`~controlplane.api.middleware.request_id.ComputeRequestId`
    so that the request id is known.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = time.monotonic()
        status_holder = {}

        def _start(status, headers, exc_info=None):
            status_holder["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        from controlplane import log as cp_log
        with cp_log.request_context({"request_id": environ.get("openstack.request_id")}):
            try:
                return self.app(environ, _start)
            finally:
                LOG.info("%s %s status: %s time: %.4f",
                         environ.get("REQUEST_METHOD"),
                         environ.get("PATH_INFO", "") + (
                             "?" + environ["QUERY_STRING"]
                             if environ.get("QUERY_STRING") else ""),
                         status_holder.get("status", "-"), time.monotonic() - started)
