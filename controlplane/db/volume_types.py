"""Volume types, their extra specs and project access (API database).

Cinder's ``volume_type_*`` functions. The migration creates the default
type ``__DEFAULT__`` (:data:`DEFAULT_TYPE_NAME`). Every function takes the
API ``engine`` first. A volume type dict is ``{"id", "name",
"description", "is_public", "created_at", "updated_at", "extra_specs":
{key: value}}``.

Extra specs the scheduler reads: ``volume_backend_name`` (matched by the
CapabilitiesFilter against the pool's backend name), ``provisioning:type``
(``thin``/``thick``, CapacityFilter), ``capabilities:<key>`` and any other
key compared with the pool's capabilities (Cinder's extra-specs operators
``<is> True``, ``<in>``, ``>=``...).
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane.db import paging
from controlplane.db.engine import new_uuid, retry_on_db_error, row_to_dict
from controlplane.db.models_volume import (Volume, VolumeType, VolumeTypeExtraSpec,
                                           VolumeTypeProject)
from controlplane.db.services import utcnow
from controlplane.volume import exception as vexc

LOG = logging.getLogger(__name__)

DEFAULT_TYPE_NAME = "__DEFAULT__"

_t = VolumeType.__table__
_es = VolumeTypeExtraSpec.__table__
_proj = VolumeTypeProject.__table__
_vol = Volume.__table__

SORT_KEYS = frozenset({"id", "name", "description", "is_public", "created_at",
                       "updated_at"})


def _specs(conn, type_ids):
    out = {tid: {} for tid in type_ids}
    if not type_ids:
        return out
    for r in conn.execute(sa.select(_es.c.volume_type_id, _es.c.key, _es.c.value)
                          .where(_es.c.volume_type_id.in_(list(type_ids)))):
        out[r.volume_type_id][r.key] = r.value
    return out


def _with_specs(conn, rows):
    dicts = [row_to_dict(r) for r in rows]
    specs = _specs(conn, [d["id"] for d in dicts])
    for d in dicts:
        d["extra_specs"] = specs[d["id"]]
    return dicts


def _get(conn, where, not_found):
    row = conn.execute(sa.select(_t).where(where)).first()
    if row is None:
        raise not_found
    return _with_specs(conn, [row])[0]


@retry_on_db_error
def create_volume_type(engine, name, description=None, is_public=True, extra_specs=None,
                       projects=None, type_id=None):
    """Create a type with its extra specs and (private types) project access.

    :returns: the type dict. :raises VolumeTypeExists: the name is taken.
    """
    tid = type_id or new_uuid()
    now = utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(_t.insert(), {"id": tid, "name": name, "description": description,
                                       "is_public": bool(is_public), "created_at": now})
            for k, v in (extra_specs or {}).items():
                conn.execute(_es.insert(), {"volume_type_id": tid, "key": k,
                                            "value": None if v is None else str(v),
                                            "created_at": now})
            for p in projects or ():
                conn.execute(_proj.insert(), {"volume_type_id": tid, "project_id": p,
                                              "created_at": now})
    except sa_exc.IntegrityError:
        raise vexc.VolumeTypeExists(id=name)
    return get_volume_type(engine, tid)


@retry_on_db_error
def get_volume_type(engine, type_id):
    """The type dict by id; raises :class:`VolumeTypeNotFound`."""
    with engine.connect() as conn:
        return _get(conn, _t.c.id == type_id,
                    vexc.VolumeTypeNotFound(volume_type_id=type_id))


@retry_on_db_error
def get_volume_type_by_name(engine, name):
    """The type dict by name; raises :class:`VolumeTypeNotFoundByName`."""
    with engine.connect() as conn:
        return _get(conn, _t.c.name == name,
                    vexc.VolumeTypeNotFoundByName(volume_type_name=name))


def get_volume_type_by_name_or_id(engine, ident):
    """Cinder resolves ``volume_type`` in a create request by id then name."""
    try:
        return get_volume_type(engine, ident)
    except vexc.VolumeTypeNotFound:
        try:
            return get_volume_type_by_name(engine, ident)
        except vexc.VolumeTypeNotFoundByName:
            raise vexc.VolumeTypeNotFound(volume_type_id=ident)


def get_default_volume_type(engine, name=None):
    """The type named ``name`` (``[DEFAULT] default_volume_type``, default
    ``__DEFAULT__``); raises VolumeTypeNotFoundByName."""
    return get_volume_type_by_name(engine, name or DEFAULT_TYPE_NAME)


@retry_on_db_error
def get_volume_types(engine, type_ids):
    """``{id: type dict}`` for the given ids (unknown ids are left out)."""
    ids = [i for i in set(type_ids or ()) if i]
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_t).where(_t.c.id.in_(ids))).all()
        return {d["id"]: d for d in _with_specs(conn, rows)}


@retry_on_db_error
def list_volume_types(engine, project_id=None, is_public=None, filters=None, sort=None,
                      limit=None, marker=None):
    """Types as dicts.

    :param project_id: with ``is_public=None``, the types this project may
        use: public ones plus private ones it has access to. None with
        ``is_public=None`` lists every type (admin).
    :param is_public: True only public, False only private types.
    :param filters: ``extra_specs`` (dict: every pair must match), ``name``.
    :param sort: ``[(key, "asc"|"desc")]``, default ``created_at desc``;
        :param marker: id of the last type of the previous page.
    """
    q = sa.select(_t)
    if is_public is True:
        q = q.where(_t.c.is_public.is_(sa.true()))
    elif is_public is False:
        q = q.where(_t.c.is_public.is_(sa.false()))
        if project_id is not None:
            q = q.where(_t.c.id.in_(sa.select(_proj.c.volume_type_id)
                                    .where(_proj.c.project_id == project_id)))
    elif project_id is not None:
        q = q.where(sa.or_(_t.c.is_public.is_(sa.true()),
                           _t.c.id.in_(sa.select(_proj.c.volume_type_id)
                                       .where(_proj.c.project_id == project_id))))
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key == "extra_specs":
            for k, v in dict(value).items():
                q = q.where(_t.c.id.in_(sa.select(_es.c.volume_type_id).where(
                    _es.c.key == k, _es.c.value == str(v))))
        elif key == "name":
            q = q.where(_t.c.name == value)
        else:
            raise ValueError("unknown volume type filter %r" % key)
    with engine.connect() as conn:
        rows = paging.paginate(conn, _t, q, sort, limit, marker, SORT_KEYS)
        return _with_specs(conn, rows)


@retry_on_db_error
def project_can_use(engine, type_id, project_id):
    """True when the type is public or the project has access to it."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(_t.c.is_public).where(_t.c.id == type_id)).first()
        if row is None:
            return False
        if row.is_public:
            return True
        return conn.execute(sa.select(_proj.c.id).where(
            _proj.c.volume_type_id == type_id,
            _proj.c.project_id == project_id)).first() is not None


@retry_on_db_error
def update_volume_type(engine, type_id, name=None, description=None, is_public=None):
    """Change name/description/is_public (None leaves a field alone).

    :raises VolumeTypeNotFound, VolumeTypeExists (name taken).
    """
    vals = {"updated_at": utcnow()}
    if name is not None:
        vals["name"] = name
    if description is not None:
        vals["description"] = description
    if is_public is not None:
        vals["is_public"] = bool(is_public)
    try:
        with engine.begin() as conn:
            res = conn.execute(_t.update().where(_t.c.id == type_id).values(**vals))
    except sa_exc.IntegrityError:
        raise vexc.VolumeTypeExists(id=name)
    if res.rowcount == 0:
        raise vexc.VolumeTypeNotFound(volume_type_id=type_id)
    return get_volume_type(engine, type_id)


@retry_on_db_error
def delete_volume_type(engine, type_id):
    """Delete a type (hard delete; specs and access rows cascade).

    :raises VolumeTypeNotFound; VolumeTypeInUse (400) while a non-deleted
        volume uses it; VolumeTypeDefault (400) for ``__DEFAULT__``.
    """
    with engine.begin() as conn:
        row = conn.execute(sa.select(_t).where(_t.c.id == type_id)).first()
        if row is None:
            raise vexc.VolumeTypeNotFound(volume_type_id=type_id)
        if row.name == DEFAULT_TYPE_NAME:
            raise vexc.VolumeTypeDefault(volume_type_id=type_id)
        in_use = conn.execute(sa.select(_vol.c.id).where(
            _vol.c.volume_type_id == type_id, _vol.c.deleted.is_(sa.false()))
            .limit(1)).first()
        if in_use is not None:
            raise vexc.VolumeTypeInUse(volume_type_id=type_id)
        conn.execute(_es.delete().where(_es.c.volume_type_id == type_id))
        conn.execute(_proj.delete().where(_proj.c.volume_type_id == type_id))
        conn.execute(_t.delete().where(_t.c.id == type_id))


# --- extra specs ---------------------------------------------------------------

def get_extra_specs(engine, type_id):
    """``{key: value}`` of the type; raises VolumeTypeNotFound."""
    return get_volume_type(engine, type_id)["extra_specs"]


@retry_on_db_error
def set_extra_specs(engine, type_id, specs):
    """Create or update extra specs (values stored as strings).

    :returns: the full extra specs dict after the change.
    """
    now = utcnow()
    with engine.begin() as conn:
        if conn.execute(sa.select(_t.c.id).where(_t.c.id == type_id)).first() is None:
            raise vexc.VolumeTypeNotFound(volume_type_id=type_id)
        for k, v in specs.items():
            v = None if v is None else str(v)
            res = conn.execute(_es.update().where(_es.c.volume_type_id == type_id,
                                                  _es.c.key == k)
                               .values(value=v, updated_at=now))
            if res.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(_es.insert(), {"volume_type_id": type_id, "key": k,
                                                    "value": v, "created_at": now})
                except sa_exc.IntegrityError:
                    conn.execute(_es.update().where(_es.c.volume_type_id == type_id,
                                                    _es.c.key == k).values(value=v))
        return _specs(conn, [type_id])[type_id]


@retry_on_db_error
def delete_extra_spec(engine, type_id, key):
    """Remove one key; raises VolumeTypeExtraSpecsNotFound."""
    with engine.begin() as conn:
        res = conn.execute(_es.delete().where(_es.c.volume_type_id == type_id,
                                              _es.c.key == key))
    if res.rowcount == 0:
        raise vexc.VolumeTypeExtraSpecsNotFound(volume_type_id=type_id,
                                                extra_specs_key=key)


# --- access ----------------------------------------------------------------------

@retry_on_db_error
def list_access(engine, type_id):
    """Projects with access to a private type: ``[{"volume_type_id", "project_id"}]``."""
    get_volume_type(engine, type_id)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_proj.c.volume_type_id, _proj.c.project_id)
                            .where(_proj.c.volume_type_id == type_id)
                            .order_by(_proj.c.id))
        return [row_to_dict(r) for r in rows]


@retry_on_db_error
def add_access(engine, type_id, project_id):
    """Grant a project access; raises VolumeTypeNotFound / VolumeTypeAccessExists."""
    get_volume_type(engine, type_id)
    try:
        with engine.begin() as conn:
            conn.execute(_proj.insert(), {"volume_type_id": type_id,
                                          "project_id": project_id, "created_at": utcnow()})
    except sa_exc.IntegrityError:
        raise vexc.VolumeTypeAccessExists(volume_type_id=type_id, project_id=project_id)


@retry_on_db_error
def remove_access(engine, type_id, project_id):
    """Revoke access; raises VolumeTypeAccessNotFound."""
    with engine.begin() as conn:
        res = conn.execute(_proj.delete().where(_proj.c.volume_type_id == type_id,
                                                _proj.c.project_id == project_id))
    if res.rowcount == 0:
        raise vexc.VolumeTypeAccessNotFound(volume_type_id=type_id, project_id=project_id)
