"""HTTP errors of the Compute API, rendered in the OpenStack fault format.

Every error body is ``{"<key>": {"code": <status>, "message": "..."}}``
where the key follows Nova's fault names (``badRequest``, ``itemNotFound``,
``conflictingRequest``, ...). Raise one of these classes anywhere below a
view function; the app's error handler renders it.
"""
import json

# status -> fault key (Nova's nova/api/openstack/wsgi.py Fault._fault_names)
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "requestEntityTooLarge",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


class HTTPError(Exception):
    """Base of the API's HTTP errors.

    :param message: text for the ``message`` field.
    :ivar code: HTTP status; :ivar key: fault name in the body;
        :ivar headers: extra response headers (dict).
    """
    code = 500
    key = "computeFault"
    default_message = "An unknown error occurred."

    def __init__(self, message=None, headers=None, extra=None):
        self.message = str(message) if message is not None else self.default_message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.message)

    def body(self):
        inner = {"code": self.code, "message": self.message}
        inner.update(self.extra)
        return {self.key: inner}


class BadRequest(HTTPError):
    code, key = 400, "badRequest"
    default_message = "Bad request."


class Unauthorized(HTTPError):
    code, key = 401, "unauthorized"
    default_message = "The request you have made requires authentication."


class Forbidden(HTTPError):
    code, key = 403, "forbidden"
    default_message = "Policy doesn't allow this operation to be performed."


class QuotaExceeded(Forbidden):
    """403 ``forbidden`` with Nova's "Quota exceeded for ..." message."""
    default_message = "Quota exceeded."


class NotFound(HTTPError):
    code, key = 404, "itemNotFound"
    default_message = "The resource could not be found."


class MethodNotAllowed(HTTPError):
    code, key = 405, "badMethod"
    default_message = "The method is not allowed for the requested URL."


class NotAcceptable(HTTPError):
    """406: the requested microversion is not served (Nova's key is computeFault)."""
    code, key = 406, "computeFault"
    default_message = "Version not acceptable."


class Conflict(HTTPError):
    code, key = 409, "conflictingRequest"
    default_message = "There was a conflict when trying to complete your request."


class RequestEntityTooLarge(HTTPError):
    code, key = 413, "requestEntityTooLarge"
    default_message = "Request is too large."


class TooManyRequests(HTTPError):
    code, key = 429, "overLimit"
    default_message = "This request was rate-limited."


class InternalServerError(HTTPError):
    code, key = 500, "computeFault"
    default_message = ("Unexpected API Error. Please report this at "
                       "the operator's bug tracker and attach the API log.")


def for_status(code, message=None):
    """An :class:`HTTPError` for an arbitrary status code."""
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed,
                NotAcceptable, Conflict, RequestEntityTooLarge, TooManyRequests):
        if cls.code == code:
            return cls(message)
    err = HTTPError(message)
    err.code = code
    err.key = FAULT_NAMES.get(code, "computeFault")
    return err


def wsgi_response(start_response, error, extra_headers=()):
    """Answer a plain WSGI request with ``error`` (used by middleware).

    :returns: the body iterable.
    """
    body = json.dumps(error.body()).encode()
    status = "%d %s" % (error.code, _REASONS.get(error.code, "Error"))
    headers = [("Content-Type", "application/json"),
               ("Content-Length", str(len(body)))]
    headers.extend(error.headers.items())
    headers.extend(extra_headers)
    start_response(status, headers)
    return [body]


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
            409: "Conflict", 413: "Request Entity Too Large",
            429: "Too Many Requests", 500: "Internal Server Error"}
