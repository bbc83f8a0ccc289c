"""Flavors, their extra specs and project access (API database).

Follows Nova's flavor model (``nova.objects.Flavor`` on the ``nova_api``
tables): ``flavorid`` is the public id used in URLs, ``id`` the internal
key; a private flavor (``is_public`` False) is visible to the projects in
``flavor_projects`` and to admins. Functions use ``[api_database]
connection`` (no engine argument) and return plain dicts::

    {"id": int, "flavorid": str, "name": str, "memory_mb": int (MiB),
     "vcpus": int, "root_gb": int (GiB), "ephemeral_gb": int (GiB),
     "swap": int (MiB), "rxtx_factor": float, "vcpu_weight": int | None,
     "disabled": bool, "is_public": bool, "description": str | None,
     "extra_specs": {str: str}, "created_at": datetime,
     "updated_at": datetime | None}

Errors (controlplane.exception): ``FlavorNotFound`` (404), ``FlavorExists``
(409, name taken), ``FlavorIdExists`` (409, flavorid taken),
``FlavorExtraSpecsNotFound`` (404), ``FlavorAccessExists`` (409),
``FlavorAccessNotFound`` (404), ``MarkerNotFound`` (400).
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.db import engine as db_engine
from controlplane.db import models_api as m
from controlplane.db.engine import retry_on_db_error

LOG = logging.getLogger(__name__)

FL = m.Flavor.__table__
SPECS = m.FlavorExtraSpec.__table__
PROJ = m.FlavorProject.__table__

#: Keys ``list_flavors`` may sort by (Nova accepts the flavor's columns).
SORT_KEYS = ("created_at", "description", "disabled", "ephemeral_gb", "flavorid",
             "id", "is_public", "memory_mb", "name", "root_gb", "rxtx_factor",
             "swap", "updated_at", "vcpu_weight", "vcpus")

_CREATE_FIELDS = ("flavorid", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb",
                  "swap", "rxtx_factor", "vcpu_weight", "disabled", "is_public",
                  "description")


def _engine():
    return db_engine.api_engine()


def _dict(row, specs=None):
    d = {c.name: getattr(row, c.name) for c in FL.columns}
    d["disabled"] = bool(d["disabled"])
    d["is_public"] = bool(d["is_public"])
    d["rxtx_factor"] = float(d["rxtx_factor"]) if d["rxtx_factor"] is not None else 1.0
    d["extra_specs"] = dict(specs or {})
    return d


_SPECS_IN = (sa.select(SPECS.c.flavor_id, SPECS.c.key, SPECS.c.value)
             .where(SPECS.c.flavor_id.in_(sa.bindparam("b_ids", expanding=True))))


def _specs_of(conn, ids):
    out = {}
    if not ids:
        return out
    for r in conn.execute(_SPECS_IN, {"b_ids": list(ids)}):
        out.setdefault(r.flavor_id, {})[r.key] = r.value
    return out


def _visible(project_id):
    """WHERE clause: public flavors or those shared with ``project_id``."""
    shared = sa.select(PROJ.c.flavor_id).where(PROJ.c.project_id == project_id)
    return sa.or_(FL.c.is_public.is_(sa.true()), FL.c.id.in_(shared))


# _find's two statements, built once (every server create looks a flavor up)
_FIND_ANY = sa.select(FL).where(FL.c.flavorid == sa.bindparam("b_flavorid"))
_FIND_VISIBLE = _FIND_ANY.where(sa.or_(
    FL.c.is_public.is_(sa.true()),
    FL.c.id.in_(sa.select(PROJ.c.flavor_id)
                .where(PROJ.c.project_id == sa.bindparam("b_project_id")))))


def _find(conn, flavorid, project_id=None):
    if project_id is None:
        row = conn.execute(_FIND_ANY, {"b_flavorid": str(flavorid)}).first()
    else:
        row = conn.execute(_FIND_VISIBLE, {"b_flavorid": str(flavorid),
                                           "b_project_id": project_id}).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return row


def _duplicate(exc, values):
    text = str(getattr(exc, "orig", exc))
    if "flavorid" in text:
        return exception.FlavorIdExists(flavor_id=values.get("flavorid"))
    return exception.FlavorExists(name=values.get("name"))


@retry_on_db_error
def create_flavor(values):
    """Insert a flavor.

    :param values: dict with ``flavorid``, ``name``, ``memory_mb``, ``vcpus``
        and optionally the other fields of the module docstring (defaults:
        disks and swap 0, ``rxtx_factor`` 1.0, public, enabled). An
        ``extra_specs`` dict is stored too.
    :raises FlavorExists: the name is taken. :raises FlavorIdExists: the id is.
    :returns: the flavor dict.
    """
    row_values = {k: values[k] for k in _CREATE_FIELDS if k in values}
    row_values["flavorid"] = str(row_values["flavorid"])
    try:
        with _engine().begin() as conn:
            # Name and id are checked first for a precise error; the unique
            # keys still decide when two creates race.
            if conn.execute(sa.select(FL.c.id).where(
                    FL.c.flavorid == row_values["flavorid"])).first():
                raise exception.FlavorIdExists(flavor_id=row_values["flavorid"])
            if conn.execute(sa.select(FL.c.id).where(FL.c.name == row_values["name"])).first():
                raise exception.FlavorExists(name=row_values["name"])
            res = conn.execute(sa.insert(FL).values(**row_values))
            fid = res.inserted_primary_key[0]
            specs = values.get("extra_specs") or {}
            for key, value in specs.items():
                conn.execute(sa.insert(SPECS).values(flavor_id=fid, key=key, value=value))
            row = conn.execute(sa.select(FL).where(FL.c.id == fid)).first()
            return _dict(row, specs)
    except sa_exc.IntegrityError as exc:
        raise _duplicate(exc, row_values) from None


@retry_on_db_error
def get_flavor(flavorid, project_id=None):
    """The flavor with public id ``flavorid`` (with ``extra_specs``).

    :param project_id: when given (a non-admin caller), a private flavor
        not shared with this project is reported as not found, as Nova does.
    :raises FlavorNotFound.
    """
    with _engine().connect() as conn:
        row = _find(conn, flavorid, project_id)
        return _dict(row, _specs_of(conn, [row.id]).get(row.id))


@retry_on_db_error
def get_flavor_by_internal_id(internal_id):
    """The flavor by its integer primary key; raises FlavorNotFound."""
    with _engine().connect() as conn:
        row = conn.execute(sa.select(FL).where(FL.c.id == internal_id)).first()
        if row is None:
            raise exception.FlavorNotFound(flavor_id=internal_id)
        return _dict(row, _specs_of(conn, [row.id]).get(row.id))


@retry_on_db_error
def list_flavors(is_public=True, project_id=None, min_memory_mb=None, min_root_gb=None,
                 include_disabled=True, sort_key="flavorid", sort_dir="asc",
                 limit=None, marker=None):
    """Flavors filtered and sorted as Nova's ``GET /flavors``.

    :param is_public: True: public flavors plus those shared with
        ``project_id`` (if given); False: private ones only; None: all.
    :param project_id: the caller's project for ``is_public=True``.
    :param min_memory_mb, min_root_gb: lower bounds (``minRam``/``minDisk``).
    :param include_disabled: False hides disabled flavors.
    :param sort_key: one of :data:`SORT_KEYS`; :param sort_dir: asc|desc.
    :param limit: most rows returned (None: all).
    :param marker: flavorid of the last flavor of the previous page.
    :raises MarkerNotFound: the marker is not among the visible flavors.
    :raises ValueError: bad sort key/dir.
    """
    if sort_key not in SORT_KEYS:
        raise ValueError("invalid sort key %s" % sort_key)
    if sort_dir not in ("asc", "desc"):
        raise ValueError("invalid sort dir %s" % sort_dir)
    q = sa.select(FL)
    if is_public is True:
        if project_id is not None:
            q = q.where(_visible(project_id))
        else:
            q = q.where(FL.c.is_public.is_(sa.true()))
    elif is_public is False:
        q = q.where(FL.c.is_public.is_(sa.false()))
    if min_memory_mb is not None:
        q = q.where(FL.c.memory_mb >= min_memory_mb)
    if min_root_gb is not None:
        q = q.where(FL.c.root_gb >= min_root_gb)
    if not include_disabled:
        q = q.where(FL.c.disabled.is_(sa.false()))
    col = FL.c[sort_key]
    with _engine().connect() as conn:
        if marker is not None:
            mrow = conn.execute(q.where(FL.c.flavorid == str(marker))).first()
            if mrow is None:
                raise exception.MarkerNotFound(marker=marker)
            mval = getattr(mrow, sort_key)
            if sort_dir == "asc":
                after = sa.or_(col > mval, sa.and_(col == mval, FL.c.id > mrow.id)) \
                    if mval is not None else sa.or_(col.isnot(None),
                                                    sa.and_(col.is_(None), FL.c.id > mrow.id))
            else:
                after = sa.or_(col < mval, col.is_(None),
                               sa.and_(col == mval, FL.c.id < mrow.id)) \
                    if mval is not None else sa.and_(col.is_(None), FL.c.id < mrow.id)
            q = q.where(after)
        order = (col.asc(), FL.c.id.asc()) if sort_dir == "asc" else (col.desc(), FL.c.id.desc())
        q = q.order_by(*order)
        if limit is not None:
            q = q.limit(limit)
        rows = conn.execute(q).all()
        specs = _specs_of(conn, [r.id for r in rows])
    return [_dict(r, specs.get(r.id)) for r in rows]


@retry_on_db_error
def update_flavor_description(flavorid, description):
    """Set the description (2.55 ``PUT /flavors/{id}``); raises FlavorNotFound."""
    with _engine().begin() as conn:
        row = _find(conn, flavorid)
        # updated_at is set explicitly: an UPDATE to the same value matches 0 rows.
        conn.execute(sa.update(FL).where(FL.c.id == row.id).values(
            description=description, updated_at=sa.func.now()))
        row = conn.execute(sa.select(FL).where(FL.c.id == row.id)).first()
        return _dict(row, _specs_of(conn, [row.id]).get(row.id))


@retry_on_db_error
def delete_flavor(flavorid):
    """Delete the flavor, its extra specs and access list; raises FlavorNotFound.

    Servers keep their embedded copy of the flavor, as in Nova.
    """
    with _engine().begin() as conn:
        row = _find(conn, flavorid)
        conn.execute(sa.delete(SPECS).where(SPECS.c.flavor_id == row.id))
        conn.execute(sa.delete(PROJ).where(PROJ.c.flavor_id == row.id))
        conn.execute(sa.delete(FL).where(FL.c.id == row.id))


# --- extra specs -------------------------------------------------------------

@retry_on_db_error
def get_extra_specs(flavorid, project_id=None):
    """``{key: value}`` of the flavor; raises FlavorNotFound."""
    with _engine().connect() as conn:
        row = _find(conn, flavorid, project_id)
        return _specs_of(conn, [row.id]).get(row.id, {})


@retry_on_db_error
def update_extra_specs(flavorid, specs):
    """Create or overwrite the given keys (others are kept).

    :param specs: ``{key: str}``; :returns: the flavor's full extra specs.
    :raises FlavorNotFound.
    """
    with _engine().begin() as conn:
        row = _find(conn, flavorid)
        existing = _specs_of(conn, [row.id]).get(row.id, {})
        for key, value in specs.items():
            if key in existing:
                conn.execute(sa.update(SPECS).where(SPECS.c.flavor_id == row.id,
                                                    SPECS.c.key == key).values(value=value))
            else:
                conn.execute(sa.insert(SPECS).values(flavor_id=row.id, key=key, value=value))
        return _specs_of(conn, [row.id]).get(row.id, {})


@retry_on_db_error
def delete_extra_spec(flavorid, key):
    """Remove one key; raises FlavorNotFound / FlavorExtraSpecsNotFound."""
    with _engine().begin() as conn:
        row = _find(conn, flavorid)
        res = conn.execute(sa.delete(SPECS).where(SPECS.c.flavor_id == row.id,
                                                  SPECS.c.key == key))
        if res.rowcount == 0:
            raise exception.FlavorExtraSpecsNotFound(flavor_id=flavorid, extra_specs_key=key)


# --- project access ----------------------------------------------------------

@retry_on_db_error
def list_flavor_access(flavorid):
    """Projects a flavor is shared with: ``[{"flavor_id", "tenant_id"}]``
    sorted by project; raises FlavorNotFound."""
    with _engine().connect() as conn:
        row = _find(conn, flavorid)
        projects = conn.execute(sa.select(PROJ.c.project_id).where(
            PROJ.c.flavor_id == row.id).order_by(PROJ.c.project_id)).scalars().all()
    return [{"flavor_id": row.flavorid, "tenant_id": p} for p in projects]


@retry_on_db_error
def add_flavor_access(flavorid, project_id):
    """Share the flavor with a project; returns the access list.

    :raises FlavorNotFound; FlavorAccessExists (already shared).
    """
    try:
        with _engine().begin() as conn:
            row = _find(conn, flavorid)
            if conn.execute(sa.select(PROJ.c.id).where(PROJ.c.flavor_id == row.id,
                                                       PROJ.c.project_id == project_id)).first():
                raise exception.FlavorAccessExists(flavor_id=flavorid, project_id=project_id)
            conn.execute(sa.insert(PROJ).values(flavor_id=row.id, project_id=project_id))
    except sa_exc.IntegrityError:
        raise exception.FlavorAccessExists(flavor_id=flavorid, project_id=project_id) from None
    return list_flavor_access(flavorid)


@retry_on_db_error
def remove_flavor_access(flavorid, project_id):
    """Stop sharing the flavor with a project; returns the access list.

    :raises FlavorNotFound; FlavorAccessNotFound.
    """
    with _engine().begin() as conn:
        row = _find(conn, flavorid)
        res = conn.execute(sa.delete(PROJ).where(PROJ.c.flavor_id == row.id,
                                                 PROJ.c.project_id == project_id))
        if res.rowcount == 0:
            raise exception.FlavorAccessNotFound(flavor_id=flavorid, project_id=project_id)
    return list_flavor_access(flavorid)
