"""``build_requests`` and ``request_specs`` of the API database.

Nova keeps a server that has no cell yet as a *build request*: the API
creates it (with the request spec and the instance mapping whose
``cell_id`` is NULL), the conductor deletes it once the instance exists in
a cell (or in cell0 after NoValidHost). The API lists build requests as
servers in ``BUILD``; deleting one while it is queued cancels the boot.

The serialised instance and the spec are JSON text; functions return
dicts with them decoded. API-database functions take no engine argument
(``[api_database] connection``), like the rest of ``controlplane.db``.
"""
import json
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.db.engine import api_engine, retry_on_db_error, row_to_dict
from controlplane.db.models_api import BuildRequest, RequestSpec

LOG = logging.getLogger(__name__)

_br = BuildRequest.__table__
_rs = RequestSpec.__table__


class BuildRequestNotFound(exception.NotFound):
    """No build request for that instance (HTTP 404)."""


class RequestSpecNotFound(exception.NotFound):
    """No request spec for that instance (HTTP 404)."""


def _dumps(value):
    return json.dumps(value, default=str, sort_keys=True)


def _br_dict(row):
    if row is None:
        return None
    out = row_to_dict(row)
    out["instance"] = json.loads(out["instance"]) if out["instance"] else {}
    return out


def _rs_dict(row):
    if row is None:
        return None
    out = row_to_dict(row)
    out["spec"] = json.loads(out["spec"]) if out["spec"] else {}
    return out


@retry_on_db_error
def create_build_request(instance_uuid, project_id, instance):
    """Store the build request of a server being booted.

    :param instance: dict of the instance fields the API prepared
        (``uuid``, ``display_name``, ``flavor`` snapshot, ``image_ref``,
        ``vm_state``, ``task_state``, ...), stored as JSON.
    :returns: ``{"id", "instance_uuid", "project_id", "instance": dict,
        "created_at", "updated_at"}``. Idempotent on ``instance_uuid``.
    """
    try:
        with api_engine().begin() as conn:
            conn.execute(_br.insert().values(instance_uuid=instance_uuid,
                                             project_id=project_id,
                                             instance=_dumps(instance)))
    except sa_exc.IntegrityError:
        LOG.info("build request of %s already exists", instance_uuid)
    return get_build_request(instance_uuid)


def create_build_request_in(conn, instance_uuid, project_id, instance):
    """Insert a build request inside the caller's transaction ``conn`` (so
    the API can create it in one transaction with the quota recount and the
    instance mapping). Raises IntegrityError on a duplicate."""
    conn.execute(_BR_INSERT, {"instance_uuid": instance_uuid, "project_id": project_id,
                              "instance": _dumps(instance)})


@retry_on_db_error
def get_build_request(instance_uuid):
    """The build request dict; raises BuildRequestNotFound."""
    with api_engine().connect() as conn:
        row = conn.execute(sa.select(_br).where(_br.c.instance_uuid == instance_uuid)).first()
    if row is None:
        raise BuildRequestNotFound("BuildRequest not found for instance %s" % instance_uuid)
    return _br_dict(row)


_BR_EXISTS = sa.select(_br.c.id).where(_br.c.instance_uuid == sa.bindparam("b_uuid"))
_BR_DELETE = _br.delete().where(_br.c.instance_uuid == sa.bindparam("b_uuid"))
_BR_INSERT = _br.insert()
_RS_INSERT = _rs.insert()


@retry_on_db_error
def build_request_exists(instance_uuid):
    """True when the build request is still there (server not deleted)."""
    with api_engine().connect() as conn:
        return conn.execute(_BR_EXISTS, {"b_uuid": instance_uuid}).first() is not None


@retry_on_db_error
def list_build_requests(project_id=None, instance_uuids=None, limit=None,
                        changes_since=None):
    """Build requests (dicts, oldest first), of one project and/or of the
    given instance uuids.

    :param changes_since: naive UTC datetime: only build requests created
        or updated at or after it (the ``changes-since`` filter of
        ``GET /servers``; a build request changes when it is created).
    """
    query = sa.select(_br).order_by(_br.c.id)
    if project_id is not None:
        query = query.where(_br.c.project_id == project_id)
    if changes_since is not None:
        query = query.where(sa.func.coalesce(_br.c.updated_at, _br.c.created_at)
                            >= changes_since)
    if instance_uuids is not None:
        query = query.where(_br.c.instance_uuid.in_(list(instance_uuids)))
    if limit is not None:
        query = query.limit(int(limit))
    with api_engine().connect() as conn:
        return [_br_dict(r) for r in conn.execute(query)]


@retry_on_db_error
def delete_build_request(instance_uuid):
    """Delete the build request. :returns: True when this call deleted it,
    False when it was already gone (server deleted, or another conductor
    finished the build) — Nova's BuildRequestNotFound case."""
    with api_engine().begin() as conn:
        res = conn.execute(_BR_DELETE, {"b_uuid": instance_uuid})
    return res.rowcount > 0


@retry_on_db_error
def create_request_spec(instance_uuid, spec):
    """Store the request spec (dict, JSON text). Idempotent: an existing
    spec is replaced. :returns: ``{"id", "instance_uuid", "spec": dict, ...}``."""
    with api_engine().begin() as conn:
        res = conn.execute(_rs.update().where(_rs.c.instance_uuid == instance_uuid)
                           .values(spec=_dumps(spec)))
        if res.rowcount == 0:
            conn.execute(_rs.insert().values(instance_uuid=instance_uuid, spec=_dumps(spec)))
    return get_request_spec(instance_uuid)


def create_request_spec_in(conn, instance_uuid, spec):
    """Insert a request spec inside the caller's transaction ``conn``."""
    conn.execute(_RS_INSERT, {"instance_uuid": instance_uuid, "spec": _dumps(spec)})


update_request_spec = create_request_spec


@retry_on_db_error
def get_request_spec(instance_uuid):
    """The request spec dict (``"spec"`` decoded); raises RequestSpecNotFound."""
    with api_engine().connect() as conn:
        row = conn.execute(sa.select(_rs).where(_rs.c.instance_uuid == instance_uuid)).first()
    if row is None:
        raise RequestSpecNotFound("RequestSpec not found for instance %s" % instance_uuid)
    return _rs_dict(row)


@retry_on_db_error
def delete_request_spec(instance_uuid):
    """Delete the request spec; True when one was deleted."""
    with api_engine().begin() as conn:
        res = conn.execute(_rs.delete().where(_rs.c.instance_uuid == instance_uuid))
    return res.rowcount > 0
