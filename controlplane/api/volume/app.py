"""The Block Storage API v3 WSGI application: :func:`create_app`.

The Compute API's pipeline (:func:`controlplane.api.app.wrap_pipeline`):
request id → request log → body size limit (413) → rate limit (429) →
[version documents bypass auth] → keystonemiddleware auth_token (or
noauth2) → RequestContext → Flask app (microversion, policy, JSON schema,
quota, database, RPC). Routes live under ``/v3/{project_id}``; a URL
whose project differs from the token's is 400, as in Cinder.
"""
import logging

import flask
from oslo_middleware import request_id as oslo_request_id

from controlplane import exception as cp_exc
from controlplane.api import app as compute_app
from controlplane.api import faults
from controlplane.api.volume import RESOURCE_MODULES, helpers, microversion, versions
from controlplane.conf import volume_api as vconf
from controlplane.importutils import import_optional

LOG = logging.getLogger(__name__)

PREFIX = "/v3/<project_id>"


class VolumeRequestId(oslo_request_id.RequestId):
    """oslo.middleware RequestId (``x-openstack-request-id`` only, as Cinder)."""


def _before_request():
    if flask.request.path.rstrip("/") in ("", "/v3"):
        return None
    flask.g.api_version = microversion.from_headers(flask.request.headers)
    return None


def _pull_project(endpoint, values):
    """Take ``project_id`` out of the view arguments; refuse a URL naming
    another project than the token's (Cinder's "Malformed request url")."""
    if not values or "project_id" not in values:
        return
    project_id = values.pop("project_id")
    flask.g.url_project_id = project_id
    ctxt = flask.request.environ.get("controlplane.context")
    if ctxt is not None and ctxt.project_id and project_id != ctxt.project_id:
        raise faults.BadRequest("Malformed request url: the project id %s of the URL "
                                "does not match the project of the token." % project_id)


def create_flask_app(conf):
    """The Flask app alone (no middleware) with every resource blueprint."""
    app = flask.Flask("controlplane.api.volume")
    app.config["CONTROLPLANE_CONF"] = conf
    app.config["MAX_CONTENT_LENGTH"] = None
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.before_request(_before_request)
    app.after_request(compute_app.version_headers_hook(microversion))
    app.url_value_preprocessor(_pull_project)
    compute_app.register_error_handlers(app)
    app.register_error_handler(cp_exc.ControlPlaneException, _handle_domain)
    app.register_blueprint(versions.bp)
    for name in RESOURCE_MODULES:
        modname = "controlplane.api.volume." + name
        mod = import_optional(modname)
        if mod is None:
            LOG.warning("volume API module %s is missing; its routes are not served",
                        modname)
            continue
        app.register_blueprint(mod.bp, url_prefix=PREFIX)
    return app


def create_app(conf=None):
    """Build the Block Storage WSGI application with the whole pipeline.

    :param conf: ``oslo_config.cfg.ConfigOpts`` (default the global CONF);
        reads ``[api]`` (auth_strategy, max_request_body_size, max_limit),
        ``[rate_limit]``, ``[keystone_authtoken]``, ``[volume_api]``.
    :returns: a WSGI callable; ``.flask_app`` is the inner Flask app.
    """
    if conf is None:
        from controlplane.conf import CONF as conf
    vconf.register_opts(conf)
    from controlplane import policies
    policies.get_enforcer(conf)
    return compute_app.wrap_pipeline(create_flask_app(conf), conf,
                                     version_paths=versions.PATHS,
                                     request_id_cls=VolumeRequestId)


def _handle_domain(err):
    """Domain errors as in the Compute API, but a 413 (quota) is Cinder's
    ``overLimit`` with ``Retry-After: 0``."""
    if getattr(err, "code", None) == 413:
        return compute_app._render(helpers.OverQuota(err.message))
    return compute_app._handle_domain(err)
