"""Helpers every resource module of the Compute API uses.

``context()``, ``authorize(rule, target=None)``, ``json_body()``,
``validate(schema, body)``, ``req_version()``, ``paginate_params()`` and the
``links`` builders. All raise :mod:`controlplane.api.faults` errors.
"""
import json
import logging

import flask
import jsonschema

from controlplane.api import faults
from controlplane.api.microversion import APIVersion
from controlplane.api.middleware.context import ENV_KEY
from controlplane import policies

LOG = logging.getLogger(__name__)

_FORMAT_CHECKER = jsonschema.Draft4Validator.FORMAT_CHECKER


def context():
    """The :class:`~controlplane.context.RequestContext` of this request.

    :raises faults.Unauthorized: the request did not pass authentication.
    """
    ctxt = flask.request.environ.get(ENV_KEY)
    if ctxt is None:
        raise faults.Unauthorized()
    return ctxt


def _allowed(ctxt, rule, target):
    """``policies.authorize`` memoised for the current request.

    A listing asks the same question for every server it shows (extended
    attributes, host status of the caller's project); the credentials and
    the rules do not change within one request, so each distinct
    ``(rule, target)`` is enforced once per request.
    """
    try:
        key = (rule, tuple(sorted(target.items())))
        hash(key)
    except TypeError:   # a target with unhashable values: no memo
        return policies.authorize(ctxt, rule, target)
    memo = getattr(flask.g, "_policy_memo", None)
    if memo is None:
        memo = flask.g._policy_memo = {}
    allowed = memo.get(key)
    if allowed is None:
        allowed = memo[key] = bool(policies.authorize(ctxt, rule, target))
    return allowed


def authorize(rule, target=None, exc=faults.Forbidden):
    """Enforce policy ``rule`` (raise 403 when denied).

    :param target: dict with at least ``project_id`` (the owner of the
        resource); defaults to the caller's project and user.
    :param exc: error class raised on denial (``faults.NotFound`` to hide
        that a resource of another project exists).
    """
    ctxt = context()
    if target is None:
        target = {"project_id": ctxt.project_id, "user_id": ctxt.user_id}
    if not _allowed(ctxt, rule, target):
        LOG.info("policy %s denied for user %s project %s roles %s", rule,
                 ctxt.user_id, ctxt.project_id, ctxt.roles)
        if exc is faults.Forbidden:
            raise faults.Forbidden("Policy doesn't allow %s to be performed." % rule)
        raise exc()
    return True


def can(rule, target=None):
    """True if ``rule`` allows the caller (never raises for a denial)."""
    ctxt = context()
    if target is None:
        target = {"project_id": ctxt.project_id, "user_id": ctxt.user_id}
    return _allowed(ctxt, rule, target)


def json_body():
    """The request body as a dict.

    :raises faults.BadRequest: empty, malformed JSON or not an object.
    """
    raw = flask.request.get_data(cache=True)
    if not raw:
        raise faults.BadRequest("The request body is empty; a JSON object is required.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise faults.BadRequest("Malformed request body: not valid JSON.")
    if not isinstance(body, dict):
        raise faults.BadRequest("Malformed request body: a JSON object is required.")
    return body


def _path(err):
    return "/".join(str(p) for p in err.absolute_path)


_validators = {}   # id(schema) -> (schema, validator); the schema is kept alive


def _validator(schema):
    """The Draft 4 validator of ``schema``, made once per schema object
    (schemas are module constants or memoised per microversion)."""
    entry = _validators.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, jsonschema.Draft4Validator(schema, format_checker=_FORMAT_CHECKER))
        if len(_validators) < 512:
            _validators[id(schema)] = entry
    return entry[1]


def validate(schema, body):
    """Validate ``body`` against a JSON schema (Draft 4, formats checked).

    :raises faults.BadRequest: with Nova's "Invalid input for field/attribute
        <field>. Value: <value>. <reason>" message naming the bad field.
    """
    errors = sorted(_validator(schema).iter_errors(body),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return body
    err = jsonschema.exceptions.best_match(errors)
    field = _path(err)
    if err.validator == "additionalProperties":
        raise faults.BadRequest("Additional properties are not allowed (%s)." % (
            err.message.split("(", 1)[-1].rstrip(")") if "(" in err.message
            else err.message))
    if err.validator == "required":
        raise faults.BadRequest("Invalid input: %s" % err.message)
    value = err.instance
    shown = value if len(repr(value)) < 200 else repr(value)[:200] + "..."
    raise faults.BadRequest("Invalid input for field/attribute %s. Value: %s. %s" % (
        field or "body", shown, err.message))


def req_version():
    """The microversion of this request (:class:`APIVersion`; 2.1 when unset)."""
    v = getattr(flask.g, "api_version", None)
    return v if v is not None else APIVersion(2, 1)


def non_negative_int_param(name, default):
    """The query parameter ``name`` as an int ≥ 0, ``default`` when absent.

    :raises faults.BadRequest: not an integer, or negative (Nova's
        "<name> param must be an integer" / "... must be positive").
    """
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise faults.BadRequest("%s param must be an integer" % name)
    if value < 0:
        raise faults.BadRequest("%s param must be positive" % name)
    return value


def paginate_params(max_limit=None):
    """``(limit, marker)`` from the query string.

    :returns: limit (int, capped at ``[api] max_limit``) and marker (str or None).
    :raises faults.BadRequest: limit not a non-negative integer.
    """
    from controlplane.conf import CONF
    cap = max_limit or CONF.api.max_limit
    limit = min(non_negative_int_param("limit", cap), cap)
    marker = flask.request.args.get("marker") or None
    return limit, marker


def bool_param(name, default=False):
    """A boolean query parameter (``1/true/yes/on`` and ``0/false/no/off``)."""
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    low = raw.strip().lower()
    if low in ("", "1", "true", "t", "yes", "y", "on"):
        return True
    if low in ("0", "false", "f", "no", "n", "off"):
        return False
    raise faults.BadRequest("Invalid value %r for boolean parameter %s" % (raw, name))


def base_url():
    """``http://host:port`` of this request (no trailing slash)."""
    return flask.request.host_url.rstrip("/")


def link(kind, ident):
    """``[self, bookmark]`` links of a resource, as Nova builds them.

    ``link("servers", id)`` → ``[{"rel": "self", "href": ".../v2.1/servers/<id>"},
    {"rel": "bookmark", "href": ".../servers/<id>"}]``.
    """
    base = base_url()
    return [{"rel": "self", "href": "%s/v2.1/%s/%s" % (base, kind, ident)},
            {"rel": "bookmark", "href": "%s/%s/%s" % (base, kind, ident)}]


def collection_links(kind, items, limit, id_key="id"):
    """``[{"rel": "next", "href": ...}]`` when a page is full, else ``[]``."""
    if not items or len(items) < limit:
        return []
    args = flask.request.args.to_dict(flat=True)
    args["limit"] = str(limit)
    args["marker"] = items[-1][id_key]
    from urllib.parse import urlencode
    return [{"rel": "next", "href": "%s/v2.1/%s?%s" % (base_url(), kind, urlencode(args))}]
