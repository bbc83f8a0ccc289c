"""Microversions of the Block Storage API (Cinder's API guide "Microversions").

The client asks with ``OpenStack-API-Version: volume 3.x`` (``latest`` is
the maximum); no header means 3.0. A malformed value is 400, a
well-formed one outside ``[MIN_VERSION, MAX_VERSION]`` is 406. Responses
carry ``OpenStack-API-Version: volume 3.x`` and ``Vary``.

Served range 3.0 – 3.60: everything the openstack client and openstacksdk
ask for in the supported commands (they negotiate the highest common
version). Behaviour that changes inside the range:

* 3.1: ``visibility``/``protected`` in ``os-volume_upload_image``;
* 3.7: ``cluster`` in service listings;
* 3.42: extending an ``in-use`` volume (the driver extends it online).
"""
from controlplane.api import microversion

HEADER = microversion.HEADER
SERVICE_TYPE = "volume"
MIN_VERSION = (3, 0)
MAX_VERSION = (3, 60)
MIN_VERSION_STR = "%d.%d" % MIN_VERSION
MAX_VERSION_STR = "%d.%d" % MAX_VERSION


def from_headers(headers):
    """The microversion a request asks for (3.0 without a header).

    :param headers: a case-insensitive mapping (werkzeug headers).
    :raises faults.BadRequest: malformed header.
    :raises faults.NotAcceptable: outside the served range.
    """
    return microversion.negotiate(headers, SERVICE_TYPE, MIN_VERSION, MAX_VERSION)


def response_headers(version):
    """Headers added to every versioned response."""
    return {HEADER: "%s %s" % (SERVICE_TYPE, version), "Vary": HEADER}
