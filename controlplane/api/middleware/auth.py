"""Authentication: keystonemiddleware ``auth_token`` or the test-only noauth2.

Both leave the identity in the environ the way keystonemiddleware does
(``HTTP_X_USER_ID``, ``HTTP_X_PROJECT_ID``, ``HTTP_X_ROLES``,
``HTTP_X_IDENTITY_STATUS``); :mod:`.context` builds the RequestContext.
"""
import logging

from controlplane.api import faults

LOG = logging.getLogger(__name__)

_IDENTITY_HEADERS = ("HTTP_X_USER_ID", "HTTP_X_PROJECT_ID", "HTTP_X_ROLES",
                     "HTTP_X_IDENTITY_STATUS", "HTTP_X_SERVICE_CATALOG",
                     "HTTP_X_USER_NAME", "HTTP_X_PROJECT_NAME")


class NoAuth2:
    """Trust the caller (tests only, like Nova's noauth2).

    Identity from ``X-User-Id``/``X-Project-Id``/``X-Roles``, or Nova's
    ``X-Auth-User``/``X-Auth-Project-Id`` or a token ``user:project``.
    Without roles, user ``admin`` gets ``admin,member,reader`` and others
    ``member,reader``. No identity at all → 401.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        user = environ.get("HTTP_X_USER_ID") or environ.get("HTTP_X_AUTH_USER")
        project = environ.get("HTTP_X_PROJECT_ID") or environ.get("HTTP_X_AUTH_PROJECT_ID")
        token = environ.get("HTTP_X_AUTH_TOKEN", "")
        if (not user or not project) and ":" in token:
            user, project = token.split(":", 1)
        if not user or not project:
            return faults.wsgi_response(start_response, faults.Unauthorized(),
                                        [("WWW-Authenticate", "Keystone uri='noauth2'")])
        roles = environ.get("HTTP_X_ROLES")
        if not roles:
            roles = "admin,member,reader" if user == "admin" else "member,reader"
        environ.update(HTTP_X_USER_ID=user, HTTP_X_PROJECT_ID=project,
                       HTTP_X_ROLES=roles, HTTP_X_IDENTITY_STATUS="Confirmed")
        return self.app(environ, start_response)


def keystone(app, conf):
    """Wrap ``app`` in keystonemiddleware's AuthProtocol reading
    ``[keystone_authtoken]`` from ``conf`` (the same config files)."""
    from keystonemiddleware import auth_token
    return auth_token.AuthProtocol(app, {"oslo_config_project": "controlplane",
                                         "oslo_config_config": conf})


class VersionBypass:
    """Send unauthenticated version discovery (``GET /``, ``GET /v2.1``) past
    authentication, as Nova does; everything else goes through ``authed``."""

    PATHS = {"", "/", "/v2.1", "/v2.1/", "/v2", "/v2/"}

    def __init__(self, authed, unauthed, paths=None):
        self.authed, self.unauthed = authed, unauthed
        self.paths = frozenset(paths) if paths is not None else self.PATHS

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in self.paths and \
                environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            for h in _IDENTITY_HEADERS:   # never trust identity on this path
                environ.pop(h, None)
            return self.unauthed(environ, start_response)
        return self.authed(environ, start_response)
