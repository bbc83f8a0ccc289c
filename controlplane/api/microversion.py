"""Microversion negotiation (Nova's API guide "Microversions").

The client asks with ``OpenStack-API-Version: compute 2.x`` or the legacy
``X-OpenStack-Nova-API-Version: 2.x``; ``latest`` means the maximum.
No header means 2.1. A malformed value is 400, a well-formed one outside
``[MIN_VERSION, MAX_VERSION]`` is 406. Responses carry both headers and
``Vary``.
"""
import functools
import re

from controlplane.api import faults
from controlplane.api.versions import MAX_VERSION, MIN_VERSION

HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
SERVICE_TYPE = "compute"
_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


@functools.total_ordering
class APIVersion:
    """A microversion ``major.minor``, comparable with another APIVersion
    or a ``(major, minor)`` tuple: ``APIVersion(2, 53) >= (2, 47)``."""

    __slots__ = ("major", "minor")

    def __init__(self, major, minor):
        self.major, self.minor = int(major), int(minor)

    @classmethod
    def parse(cls, text):
        """``"2.53"`` or ``"latest"`` → APIVersion (the Compute API's range).

        :raises faults.BadRequest: malformed.
        """
        return parse_version(text, MAX_VERSION)

    def _t(self):
        return (self.major, self.minor)

    @staticmethod
    def _other(other):
        if isinstance(other, APIVersion):
            return other._t()
        return tuple(other)

    def __eq__(self, other):
        try:
            return self._t() == self._other(other)
        except TypeError:
            return NotImplemented

    def __lt__(self, other):
        return self._t() < self._other(other)

    def __hash__(self):
        return hash(self._t())

    def __str__(self):
        return "%d.%d" % self._t()

    __repr__ = __str__


def parse_version(text, maximum):
    """``"X.Y"`` or ``"latest"`` (= ``maximum``, a ``(major, minor)``
    tuple) → :class:`APIVersion`. Shared by the Compute and Block Storage
    APIs.

    :raises faults.BadRequest: malformed.
    """
    text = (text or "").strip()
    if text.lower() == "latest":
        return APIVersion(*maximum)
    m = _RE.match(text)
    if not m:
        raise faults.BadRequest(
            "Invalid format of the API version %r: use major.minor, e.g. %d.%d, "
            "or 'latest'." % ((text,) + tuple(maximum)))
    return APIVersion(int(m.group(1)), int(m.group(2)))


def negotiate(headers, service_type, minimum, maximum, legacy_header=None):
    """The microversion a request asks ``service_type`` for, following the
    API-SIG microversion guideline: ``OpenStack-API-Version: <service_type>
    X.Y`` (entries of other services, comma separated, are ignored), else
    ``legacy_header``'s value, else ``minimum``.

    :param headers: a case-insensitive mapping (werkzeug headers).
    :param minimum, maximum: ``(major, minor)`` of the served range.
    :returns: :class:`APIVersion`.
    :raises faults.BadRequest: malformed header or version.
    :raises faults.NotAcceptable: outside ``[minimum, maximum]`` (406).
    """
    value = None
    raw = headers.get(HEADER)
    if raw:
        for part in raw.split(","):
            bits = part.strip().split()
            if len(bits) != 2:
                raise faults.BadRequest("Invalid %s header %r" % (HEADER, raw))
            if bits[0].lower() == service_type:
                value = bits[1]
    if value is None and legacy_header:
        value = headers.get(legacy_header)
    if not value:
        return APIVersion(*minimum)
    version = parse_version(value, maximum)
    if not (tuple(minimum) <= version._t() <= tuple(maximum)):
        raise faults.NotAcceptable(
            "Version %s is not supported by the API. Minimum is %d.%d and maximum "
            "is %d.%d." % ((version,) + tuple(minimum) + tuple(maximum)))
    return version


def from_headers(headers):
    """The Compute API microversion a request asks for (2.1 without a
    header; the legacy ``X-OpenStack-Nova-API-Version`` is honoured).

    :raises faults.BadRequest: malformed header.
    :raises faults.NotAcceptable: outside the served range.
    """
    return negotiate(headers, SERVICE_TYPE, MIN_VERSION, MAX_VERSION,
                     legacy_header=LEGACY_HEADER)


def response_headers(version):
    """Headers to add to every versioned response."""
    return {HEADER: "%s %s" % (SERVICE_TYPE, version),
            LEGACY_HEADER: str(version),
            "Vary": "%s, %s" % (HEADER, LEGACY_HEADER)}
