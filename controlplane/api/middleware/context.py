"""Build the :class:`controlplane.context.RequestContext` of a request.

Runs after authentication; stores the context in
``environ["controlplane.context"]``. A request without a confirmed
identity is refused with 401.
"""
import json
import logging

from controlplane.api import faults
from controlplane.context import RequestContext, generate_request_id

LOG = logging.getLogger(__name__)
ENV_KEY = "controlplane.context"


def context_from_environ(environ):
    """The RequestContext of an authenticated request environ.

    :raises faults.Unauthorized: identity missing or not ``Confirmed``.
    """
    if environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
        raise faults.Unauthorized()
    roles = [r.strip() for r in environ.get("HTTP_X_ROLES", "").split(",") if r.strip()]
    catalog = []
    raw = environ.get("HTTP_X_SERVICE_CATALOG")
    if raw:
        try:
            catalog = json.loads(raw)
        except ValueError:
            LOG.warning("ignoring an X-Service-Catalog that is not JSON")
    return RequestContext(
        user_id=environ.get("HTTP_X_USER_ID"),
        project_id=environ.get("HTTP_X_PROJECT_ID") or environ.get("HTTP_X_TENANT_ID"),
        roles=roles,
        request_id=environ.get("openstack.request_id") or generate_request_id(),
        auth_token=environ.get("HTTP_X_AUTH_TOKEN"),
        user_name=environ.get("HTTP_X_USER_NAME"),
        project_name=environ.get("HTTP_X_PROJECT_NAME"),
        service_catalog=catalog)


class ContextMiddleware:
    """WSGI middleware putting the RequestContext into the environ."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            environ[ENV_KEY] = context_from_environ(environ)
        except faults.HTTPError as err:
            return faults.wsgi_response(start_response, err)
        return self.app(environ, start_response)
