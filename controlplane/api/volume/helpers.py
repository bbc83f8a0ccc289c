"""Helpers of the Block Storage resource modules (next to the shared
:mod:`controlplane.api.common`: context, authorize, json_body, validate,
paginate_params).

* :func:`req_version`: the request's volume microversion;
* :func:`link` / :func:`collection_links`: Cinder's ``self``/``bookmark``
  and ``<kind>_links`` (next page) links under ``/v3/{project_id}``;
* :class:`OverQuota`: 413 ``overLimit``, Cinder's answer to a quota error;
* :func:`target`, :func:`check_uuid`, :func:`str_bool`.
"""
import uuid
from urllib.parse import urlencode

import flask

from controlplane.api import common, faults
from controlplane.api.microversion import APIVersion
from controlplane.api.volume import microversion


class OverQuota(faults.HTTPError):
    """413 ``overLimit`` (Cinder's ``QuotaError`` family: VolumeLimitExceeded,
    VolumeSizeExceedsAvailableQuota, SnapshotLimitExceeded)."""
    code, key = 413, "overLimit"
    default_message = "Quota exceeded."

    def __init__(self, message=None):
        super().__init__(message, headers={"Retry-After": "0"})


def req_version():
    """The microversion of this request (3.0 when unset)."""
    v = getattr(flask.g, "api_version", None)
    return v if v is not None else APIVersion(*microversion.MIN_VERSION)


def url_project():
    """The ``{project_id}`` of the request URL."""
    return getattr(flask.g, "url_project_id", None) or common.context().project_id


def link(kind, ident):
    """``[self, bookmark]`` links of a resource, as Cinder builds them:
    ``.../v3/<project>/<kind>/<id>`` and ``.../<project>/<kind>/<id>``."""
    base, project = common.base_url(), url_project()
    return [{"rel": "self", "href": "%s/v3/%s/%s/%s" % (base, project, kind, ident)},
            {"rel": "bookmark", "href": "%s/%s/%s/%s" % (base, project, kind, ident)}]


def collection_links(kind, items, limit, id_key="id"):
    """``[{"rel": "next", "href": ...}]`` when a page is full, else ``[]``."""
    if not items or len(items) < limit:
        return []
    args = flask.request.args.to_dict(flat=True)
    args["limit"] = str(limit)
    args["marker"] = items[-1][id_key]
    return [{"rel": "next", "href": "%s/v3/%s/%s?%s" % (
        common.base_url(), url_project(), kind, urlencode(args))}]


def target(project_id):
    """Policy target of a resource owned by ``project_id``."""
    return {"project_id": project_id, "user_id": common.context().user_id}


def check_uuid(value, what="id"):
    """:raises faults.BadRequest: ``value`` is not a UUID."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        raise faults.BadRequest("Invalid %s %r: not a UUID." % (what, value))
    return value


_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def str_bool(value, name):
    """Cinder's lenient boolean: a JSON bool or one of ``true/false/yes/no/1/0``.

    :raises faults.BadRequest: anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    raise faults.BadRequest("Invalid value %r for %s: a boolean is required." % (value, name))


def bool_query(name, default=False):
    """A boolean query parameter (Cinder accepts ``all_tenants=1``, ``=True``...)."""
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    if raw == "":
        return True
    return str_bool(raw, name)
