"""Block-storage quotas: limits and counted usage (API database).

Resources (Cinder's names): ``volumes``, ``snapshots``, ``gigabytes``
(volume sizes plus snapshot sizes unless ``no_snapshot_gb_quota``),
``per_volume_gigabytes`` (a per-volume maximum, not counted),
``backups`` and ``backup_gigabytes`` (reported as limits, nothing counts
them here), and per volume type ``volumes_<type name>``,
``snapshots_<type name>``, ``gigabytes_<type name>`` (default -1).

Limits: the ``[DEFAULT] quota_*`` options, overridden by the quota class
``default`` (``volume_quota_classes``), overridden per project
(``volume_quotas``). Usage is counted from ``volumes`` and ``snapshots``,
never reserved: :func:`create_volume_within_quota` and
:func:`create_snapshot_within_quota` bump the project's
``volume_quota_generations`` row (the serialisation point of the project's
creates; on Galera one of two writers on different nodes fails
certification and the transaction is retried), insert, recount, and roll
back with :class:`VolumeQuotaExceeded` (HTTP 413) when over a limit — the
same check-and-recheck pattern as :mod:`controlplane.db.quotas`, so
parallel creates never exceed a quota. A volume being extended counts
with its ``pending_size``.

Every function takes the API ``engine`` first.
"""
import logging

import sqlalchemy as sa
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from controlplane.conf import CONF
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volumes as db_volumes
from controlplane.db.engine import retry_on_db_error
from controlplane.db.models_volume import (Snapshot, Volume, VolumeQuota, VolumeQuotaClass,
                                           VolumeQuotaGeneration, VolumeType)
from controlplane.db.services import utcnow
from controlplane.volume import exception as vexc
from controlplane.volume import states

LOG = logging.getLogger(__name__)

_q = VolumeQuota.__table__
_qc = VolumeQuotaClass.__table__
_gen = VolumeQuotaGeneration.__table__
_vol = Volume.__table__
_snap = Snapshot.__table__
_types = VolumeType.__table__

#: base resources and the option holding their default
BASE_RESOURCES = {
    "volumes": "quota_volumes",
    "snapshots": "quota_snapshots",
    "gigabytes": "quota_gigabytes",
    "per_volume_gigabytes": "per_volume_size_limit",
    "backups": "quota_backups",
    "backup_gigabytes": "quota_backup_gigabytes",
}
#: resources prefixed per volume type
TYPE_PREFIXES = ("volumes", "snapshots", "gigabytes")


def _upsert(conn, table, values, keys):
    if conn.dialect.name == "mysql":
        stmt = mysql_dialect.insert(table).values(**values)
        stmt = stmt.on_duplicate_key_update(hard_limit=stmt.inserted.hard_limit,
                                            updated_at=stmt.inserted.created_at)
    elif conn.dialect.name == "sqlite":
        stmt = sqlite_dialect.insert(table).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=keys,
                                          set_={"hard_limit": stmt.excluded.hard_limit})
    else:  # pragma: no cover
        raise NotImplementedError(conn.dialect.name)
    conn.execute(stmt)


def _bump_generation(conn, project_id):
    if conn.dialect.name == "mysql":
        stmt = mysql_dialect.insert(_gen).values(project_id=project_id, generation=1)
        stmt = stmt.on_duplicate_key_update(generation=_gen.c.generation + 1)
    else:
        stmt = sqlite_dialect.insert(_gen).values(project_id=project_id, generation=1)
        stmt = stmt.on_conflict_do_update(index_elements=["project_id"],
                                          set_={"generation": _gen.c.generation + 1})
    conn.execute(stmt)


# --- limits ----------------------------------------------------------------------

def type_resources(type_name):
    """``["volumes_<t>", "snapshots_<t>", "gigabytes_<t>"]``."""
    return ["%s_%s" % (p, type_name) for p in TYPE_PREFIXES]


def default_limits(type_names=()):
    """Limits from the options: ``{resource: limit}`` (-1 unlimited); per-type
    resources of ``type_names`` default to -1."""
    out = {r: int(getattr(CONF, opt)) for r, opt in BASE_RESOURCES.items()}
    for name in type_names:
        for r in type_resources(name):
            out[r] = -1
    return out


@retry_on_db_error
def get_project_quotas(engine, project_id):
    """Per-project limits an admin set: ``{resource: hard_limit}``."""
    with engine.connect() as conn:
        return {r.resource: r.hard_limit for r in conn.execute(
            sa.select(_q.c.resource, _q.c.hard_limit).where(_q.c.project_id == project_id))}


@retry_on_db_error
def get_class_quotas(engine, class_name="default"):
    """Limits of a quota class: ``{resource: hard_limit}``."""
    with engine.connect() as conn:
        return {r.resource: r.hard_limit for r in conn.execute(
            sa.select(_qc.c.resource, _qc.c.hard_limit).where(_qc.c.class_name == class_name))}


@retry_on_db_error
def all_type_names(engine):
    """Names of every volume type (for the per-type quota resources)."""
    with engine.connect() as conn:
        return [r.name for r in conn.execute(sa.select(_types.c.name).order_by(_types.c.name))]


def get_limits(engine, project_id, type_names=None):
    """Effective limits of a project: options < class ``default`` < project.

    :param type_names: volume type names whose per-type resources are
        included (None: every type).
    :returns: ``{resource: limit}``.
    """
    if type_names is None:
        type_names = all_type_names(engine)
    out = default_limits(type_names)
    for src in (get_class_quotas(engine), get_project_quotas(engine, project_id)):
        for r, v in src.items():
            if r in out or any(r.startswith(p + "_") for p in TYPE_PREFIXES):
                out[r] = v
    return out


def get_defaults(engine, type_names=None):
    """Limits of a project without per-project overrides (quota class ``default``
    over the options), for ``os-quota-sets/{id}/defaults``."""
    if type_names is None:
        type_names = all_type_names(engine)
    out = default_limits(type_names)
    out.update({r: v for r, v in get_class_quotas(engine).items() if r in out})
    return out


@retry_on_db_error
def set_project_quotas(engine, project_id, limits):
    """Create or update per-project limits ``{resource: hard_limit}``."""
    now = utcnow()
    with engine.begin() as conn:
        for r, v in limits.items():
            _upsert(conn, _q, {"project_id": project_id, "resource": r,
                               "hard_limit": int(v), "created_at": now},
                    ["project_id", "resource"])


@retry_on_db_error
def delete_project_quotas(engine, project_id):
    """Drop the project's overrides. :returns: rows deleted."""
    with engine.begin() as conn:
        return conn.execute(_q.delete().where(_q.c.project_id == project_id)).rowcount


@retry_on_db_error
def set_class_quotas(engine, class_name, limits):
    """Create or update the limits of a quota class."""
    now = utcnow()
    with engine.begin() as conn:
        for r, v in limits.items():
            _upsert(conn, _qc, {"class_name": class_name, "resource": r,
                                "hard_limit": int(v), "created_at": now},
                    ["class_name", "resource"])


# --- usage -----------------------------------------------------------------------

def _vol_size():
    return sa.case((_vol.c.pending_size > _vol.c.size, _vol.c.pending_size),
                   else_=_vol.c.size)


def _count(conn, project_id):
    usage = {"volumes": 0, "snapshots": 0, "gigabytes": 0, "backups": 0,
             "backup_gigabytes": 0}
    vq = (sa.select(_types.c.name, sa.func.count(_vol.c.id),
                    sa.func.coalesce(sa.func.sum(_vol_size()), 0))
          .select_from(_vol.outerjoin(_types, _types.c.id == _vol.c.volume_type_id))
          .where(_vol.c.project_id == project_id, _vol.c.deleted.is_(sa.false()))
          .group_by(_types.c.name))
    for name, n, gb in conn.execute(vq):
        usage["volumes"] += int(n)
        usage["gigabytes"] += int(gb)
        if name is not None:
            usage["volumes_" + name] = usage.get("volumes_" + name, 0) + int(n)
            usage["gigabytes_" + name] = usage.get("gigabytes_" + name, 0) + int(gb)
    sq = (sa.select(_types.c.name, sa.func.count(_snap.c.id),
                    sa.func.coalesce(sa.func.sum(_snap.c.volume_size), 0))
          .select_from(_snap.outerjoin(_types, _types.c.id == _snap.c.volume_type_id))
          .where(_snap.c.project_id == project_id, _snap.c.deleted.is_(sa.false()))
          .group_by(_types.c.name))
    count_snap_gb = not CONF.no_snapshot_gb_quota
    for name, n, gb in conn.execute(sq):
        usage["snapshots"] += int(n)
        if count_snap_gb:
            usage["gigabytes"] += int(gb)
        if name is not None:
            usage["snapshots_" + name] = usage.get("snapshots_" + name, 0) + int(n)
            if count_snap_gb:
                usage["gigabytes_" + name] = usage.get("gigabytes_" + name, 0) + int(gb)
    return usage


@retry_on_db_error
def count_usage(engine, project_id):
    """Counted usage of a project: ``{"volumes", "snapshots", "gigabytes",
    "backups": 0, "backup_gigabytes": 0, "volumes_<type>", ...}`` (per-type
    keys only for types in use; gigabytes in GiB)."""
    with engine.connect() as conn:
        return _count(conn, project_id)


def _overs(before, requested, limits):
    out = []
    for r, want in requested.items():
        limit = limits.get(r, -1)
        if limit is None or limit < 0 or not want:
            continue
        used = before.get(r, 0)
        if used + want > limit:
            out.append({"resource": r, "requested": want, "used": used, "limit": limit})
    return out


def _type_name(conn, type_id):
    if not type_id:
        return None
    row = conn.execute(sa.select(_types.c.name).where(_types.c.id == type_id)).first()
    return row.name if row is not None else None


def _check_and_commit(conn, trans, project_id, requested, limits):
    after = _count(conn, project_id)
    before = {r: after.get(r, 0) - requested.get(r, 0) for r in set(after) | set(requested)}
    overs = _overs(before, requested, limits)
    if overs:
        raise vexc.VolumeQuotaExceeded(overs)
    trans.commit()
    return after


def _check_per_volume(size, limits):
    limit = limits.get("per_volume_gigabytes", -1)
    if limit is not None and limit >= 0 and size > limit:
        raise vexc.VolumeSizeExceedsLimit(size=size, limit=limit)


@retry_on_db_error
def create_volume_within_quota(engine, project_id, values, limits):
    """Check quota and create a volume in one transaction.

    :param values: as :func:`controlplane.db.volumes.create_volume`
        (``size`` GiB, ``volume_type_id`` selects the per-type resources).
        Give ``id``: a volume of that id that exists already (an earlier
        attempt of this create committed) is returned as it is. Without
        one, each retry of the transaction makes a new id, and a retry
        after a commit whose answer was lost creates a second volume.
    :param limits: from :func:`get_limits` (-1 unlimited).
    :returns: the volume dict.
    :raises VolumeSizeExceedsLimit (413): bigger than ``per_volume_gigabytes``.
    :raises VolumeQuotaExceeded (413): ``overs`` lists every exceeded
        resource; nothing was written.
    """
    size = int(values["size"])
    _check_per_volume(size, limits)
    row = db_volumes.prepare_row(dict(values, project_id=project_id))
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            # Idempotent on ``id``: a retry after a lost connection whose
            # commit had landed (the Galera writer killed mid-commit) finds
            # its row and charges nothing twice.
            try:
                existing = db_volumes.get_volume_in(conn, row["id"], "yes")
            except vexc.VolumeNotFound:
                pass
            else:
                trans.commit()
                return existing
            _bump_generation(conn, project_id)
            requested = {"volumes": 1, "gigabytes": size}
            tname = _type_name(conn, row.get("volume_type_id"))
            if tname is not None:
                requested["volumes_" + tname] = 1
                requested["gigabytes_" + tname] = size
            db_volumes.insert_volume_in(conn, row)
            _check_and_commit(conn, trans, project_id, requested, limits)
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        # Read back on the writing connection (Galera: no read-your-writes
        # across nodes; a committed create once answered 404 here).
        return db_volumes.get_volume_in(conn, row["id"])


@retry_on_db_error
def create_snapshot_within_quota(engine, project_id, values, limits,
                                 expected_volume_status=states.SNAPSHOTTABLE):
    """Check quota and the volume's status, and create a snapshot, in one
    transaction.

    :param values: ``volume_id`` required; ``user_id``, ``display_name``,
        ``display_description``, ``metadata``, ``id`` optional;
        ``volume_size`` and ``volume_type_id`` are taken from the volume.
    :param expected_volume_status: the volume must be in one of these
        (``available``; with ``force`` also ``in-use``).
    :returns: the snapshot dict (status ``creating``).
    :raises VolumeNotFound (also another project's volume),
        VolumeInvalidState (409), VolumeQuotaExceeded (413).
    """
    exp = list(expected_volume_status)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            vol = conn.execute(sa.select(_vol).where(
                _vol.c.id == values["volume_id"], _vol.c.deleted.is_(sa.false()))).first()
            if vol is None or vol.project_id != project_id:
                raise vexc.VolumeNotFound(volume_id=values["volume_id"])
            # A write on the volume row in the same transaction: a racing
            # delete (status CAS) and this snapshot cannot both commit.
            touched = conn.execute(_vol.update().where(
                _vol.c.id == vol.id, _vol.c.status.in_(exp)).values(updated_at=utcnow()))
            if touched.rowcount != 1:
                raise vexc.VolumeInvalidState(volume_id=vol.id, expected=exp,
                                              actual=vol.status)
            _bump_generation(conn, project_id)
            row = db_snapshots.prepare_row(dict(values, project_id=project_id,
                                                volume_size=vol.size,
                                                volume_type_id=vol.volume_type_id))
            requested = {"snapshots": 1}
            if not CONF.no_snapshot_gb_quota:
                requested["gigabytes"] = vol.size
            tname = _type_name(conn, vol.volume_type_id)
            if tname is not None:
                requested["snapshots_" + tname] = 1
                if not CONF.no_snapshot_gb_quota:
                    requested["gigabytes_" + tname] = vol.size
            db_snapshots.insert_snapshot_in(conn, row)
            _check_and_commit(conn, trans, project_id, requested, limits)
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        return db_snapshots.get_snapshot_in(conn, row["id"])


@retry_on_db_error
def begin_extend_within_quota(engine, volume_id, new_size, limits, project_id=None,
                              expected_status=(states.AVAILABLE,)):
    """CAS a volume to ``extending`` with ``pending_size = new_size`` if the
    project's gigabytes quotas allow the growth (Cinder's extend reserve).

    :returns: the volume dict. The manager finishes with
        ``update_volume(..., {"size": new, "pending_size": None, "status": ...})``.
    :raises VolumeNotFound, VolumeInvalidState (409), VolumeSizeExceedsLimit,
        VolumeQuotaExceeded (413); ``exception.Invalid`` (400) when
        ``new_size`` is not larger than the size.
    """
    from controlplane import exception
    exp = list(expected_status)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            vol = conn.execute(sa.select(_vol).where(
                _vol.c.id == volume_id, _vol.c.deleted.is_(sa.false()))).first()
            if vol is None or (project_id is not None and vol.project_id != project_id):
                raise vexc.VolumeNotFound(volume_id=volume_id)
            if int(new_size) <= vol.size:
                raise exception.Invalid(
                    "New size for extend must be greater than current size. "
                    "(current: %d, extended: %d)." % (vol.size, int(new_size)))
            _check_per_volume(int(new_size), limits)
            res = conn.execute(_vol.update().where(
                _vol.c.id == volume_id, _vol.c.deleted.is_(sa.false()),
                _vol.c.status.in_(exp)).values(
                    status=states.EXTENDING, previous_status=vol.status,
                    pending_size=int(new_size), updated_at=utcnow()))
            if res.rowcount != 1:
                raise vexc.VolumeInvalidState(volume_id=volume_id, expected=exp,
                                              actual=vol.status)
            _bump_generation(conn, vol.project_id)
            delta = int(new_size) - vol.size
            requested = {"gigabytes": delta}
            tname = _type_name(conn, vol.volume_type_id)
            if tname is not None:
                requested["gigabytes_" + tname] = delta
            _check_and_commit(conn, trans, vol.project_id, requested, limits)
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
    return db_volumes.get_volume(engine, volume_id)
