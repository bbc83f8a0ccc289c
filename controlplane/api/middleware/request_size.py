"""Reject request bodies larger than ``[api] max_request_body_size`` with 413.

A declared ``Content-Length`` over the limit is refused before the body is
read; a chunked body is cut off while being read (the reader raises
:class:`~controlplane.api.faults.RequestEntityTooLarge`, which the Flask
error handler renders as 413).
"""
from controlplane.api import faults


class LimitingReader:
    """File-like wrapper raising 413 once more than ``limit`` bytes were read."""

    def __init__(self, stream, limit):
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def _count(self, data):
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise faults.RequestEntityTooLarge(
                "Request body is larger than %d bytes." % self.limit)
        return data

    def read(self, *args):
        return self._count(self.stream.read(*args))

    def readline(self, *args):
        return self._count(self.stream.readline(*args))

    def __iter__(self):
        for chunk in self.stream:
            yield self._count(chunk)


class RequestBodySizeLimiter:
    """WSGI middleware: 413 ``requestEntityTooLarge`` above ``max_size`` bytes."""

    def __init__(self, app, max_size):
        self.app, self.max_size = app, max_size

    def __call__(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH")
        if length:
            try:
                n = int(length)
            except ValueError:
                return faults.wsgi_response(start_response, faults.BadRequest(
                    "Invalid Content-Length %r" % length))
            if n > self.max_size:
                return faults.wsgi_response(start_response, faults.RequestEntityTooLarge(
                    "Request body is %d bytes, more than the limit of %d." % (
                        n, self.max_size)))
        elif "wsgi.input" in environ:
            environ["wsgi.input"] = LimitingReader(environ["wsgi.input"], self.max_size)
        return self.app(environ, start_response)
