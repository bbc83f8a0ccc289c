"""The Compute API WSGI application: :func:`create_app`.

Pipeline, outermost first (Nova's api-paste order, with the rate limiter
ahead of token validation):

request id → request log → body size limit (413) → rate limit (429) →
[version documents bypass auth] → keystonemiddleware auth_token or noauth2
→ RequestContext → Flask app (microversion, policy, resources).
"""
import logging

import flask
from werkzeug import exceptions as wz_exc

from controlplane import exception as cp_exc
from controlplane.importutils import import_optional
from controlplane.api import faults, microversion
from controlplane.api.compute import RESOURCE_MODULES
from controlplane.api.middleware import (auth, context as ctx_mw, rate_limit,
                                         request_id, request_log, request_size)

LOG = logging.getLogger(__name__)

_UNVERSIONED = {"/", "/v2", "/v2/", "/v2.1", "/v2.1/"}


def _render(err):
    resp = flask.jsonify(err.body())
    resp.status_code = err.code
    for k, v in err.headers.items():
        resp.headers[k] = v
    return resp


def _before_request():
    if flask.request.path in _UNVERSIONED:
        return None
    flask.g.api_version = microversion.from_headers(flask.request.headers)
    return None


def version_headers_hook(mv):
    """A Flask ``after_request`` hook adding the microversion response
    headers (``mv.response_headers(flask.g.api_version)``:
    ``OpenStack-API-Version``, the service's legacy header and ``Vary``, per
    the API-WG microversion guideline) to
    every versioned response; ``mv`` is the API's microversion module
    (compute or volume)."""
    def _after_request(resp):
        version = getattr(flask.g, "api_version", None)
        if version is not None:
            for k, v in mv.response_headers(version).items():
                resp.headers[k] = v
        return resp
    return _after_request


def _handle_http_error(err):
    if err.code >= 500:
        LOG.error("API error %s: %s", err.code, err.message)
    return _render(err)


def _handle_werkzeug(err):
    if isinstance(err, wz_exc.RequestEntityTooLarge):
        return _render(faults.RequestEntityTooLarge())
    code = err.code or 500
    if code == 404:
        return _render(faults.NotFound("The resource could not be found."))
    if code == 405:
        fault = faults.MethodNotAllowed()
        resp = _render(fault)
        if getattr(err, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(err.valid_methods)
        return resp
    return _render(faults.for_status(code, err.description))


def _handle_domain(err):
    code = getattr(err, "code", 500) or 500
    if code >= 500:
        LOG.exception("domain error with code %s", code)
        return _render(faults.InternalServerError())
    return _render(faults.for_status(code, err.message))


def _handle_any(err):
    code = getattr(err, "code", None)
    if isinstance(code, int) and 400 <= code < 500:
        # a db/domain error carrying an HTTP-like code (InstanceNotFound ...)
        return _render(faults.for_status(code, str(err)))
    LOG.exception("Unexpected API error: %s", err)
    return _render(faults.InternalServerError())


def register_error_handlers(app):
    """Render every error of ``app`` in the OpenStack fault format (shared
    by the Compute and the Block Storage apps)."""
    app.register_error_handler(faults.HTTPError, _handle_http_error)
    app.register_error_handler(wz_exc.HTTPException, _handle_werkzeug)
    app.register_error_handler(cp_exc.ControlPlaneException, _handle_domain)
    app.register_error_handler(Exception, _handle_any)


def create_flask_app(conf):
    """The Flask app alone (no middleware), with every resource blueprint."""
    app = flask.Flask("controlplane.api")
    app.config["CONTROLPLANE_CONF"] = conf
    app.config["MAX_CONTENT_LENGTH"] = None
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.before_request(_before_request)
    app.after_request(version_headers_hook(microversion))
    register_error_handlers(app)
    for name in RESOURCE_MODULES:
        modname = "controlplane.api.compute." + name
        mod = import_optional(modname)
        if mod is None:
            LOG.warning("API resource module %s is missing; its routes are not served",
                        modname)
            continue
        app.register_blueprint(mod.bp, url_prefix="/v2.1")
        extra = getattr(mod, "root_bp", None)
        if extra is not None:
            app.register_blueprint(extra)
    return app


def create_app(conf=None):
    """Build the WSGI application with the whole pipeline.

    :param conf: ``oslo_config.cfg.ConfigOpts`` (default the global CONF);
        reads ``[api]``, ``[rate_limit]``, ``[keystone_authtoken]``.
    :returns: a WSGI callable. ``.flask_app`` is the inner Flask app.
    """
    if conf is None:
        from controlplane.conf import CONF as conf
    from controlplane import policies
    policies.get_enforcer(conf)
    return wrap_pipeline(create_flask_app(conf), conf)


def wrap_pipeline(flask_app, conf, version_paths=None,
                  request_id_cls=request_id.ComputeRequestId):
    """Wrap ``flask_app`` in the middleware of the module docstring.

    :param version_paths: paths served without authentication (default
        the Compute API's ``/``, ``/v2``, ``/v2.1``).
    :param request_id_cls: the request id middleware class.
    :returns: the WSGI callable, with ``.flask_app`` set.
    """
    inner = ctx_mw.ContextMiddleware(flask_app.wsgi_app)
    if conf.api.auth_strategy == "noauth2":
        authed = auth.NoAuth2(inner)
    else:
        authed = auth.keystone(inner, conf)
    app = auth.VersionBypass(authed, flask_app.wsgi_app, paths=version_paths)
    if conf.rate_limit.enabled:
        app = rate_limit.RateLimit(app, conf.rate_limit.limit, conf.rate_limit.storage_uri)
    app = request_size.RequestBodySizeLimiter(app, conf.api.max_request_body_size)
    app = request_log.RequestLog(app)
    app = request_id_cls(app)
    app.flask_app = flask_app
    return app
