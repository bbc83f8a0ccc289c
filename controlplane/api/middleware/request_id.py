"""Request ids: oslo.middleware ``RequestId`` also answering ``x-compute-request-id``.

Sets ``environ["openstack.request_id"]`` (``req-<uuid>``) and returns it in
``x-openstack-request-id`` and Nova's compat header ``x-compute-request-id``.
"""
from oslo_middleware import request_id


class ComputeRequestId(request_id.RequestId):
    """RequestId with Nova's ``x-compute-request-id`` compat header."""
    compat_headers = ["x-compute-request-id"]


ENV_REQUEST_ID = request_id.ENV_REQUEST_ID
