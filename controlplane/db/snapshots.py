"""Volume snapshots (API database), Cinder's ``snapshot_*`` db functions.

Status changes are compare-and-swaps like volumes
(:func:`update_snapshot` with ``expected_status``); soft delete sets
``deleted`` and status ``deleted``. Every function takes the API
``engine`` first and returns dicts with every column of ``snapshots``
(``metadata`` a dict, ``volume_size`` in GiB). Quota-checked creation is
:func:`controlplane.db.volume_quotas.create_snapshot_within_quota`.
"""
import logging

import sqlalchemy as sa

from controlplane.db import paging, volumes
from controlplane.db.engine import new_uuid, retry_on_db_error, row_to_dict
from controlplane.db.models_volume import Snapshot, Volume
from controlplane.db.services import utcnow
from controlplane.volume import exception as vexc
from controlplane.volume import states

LOG = logging.getLogger(__name__)

_t = Snapshot.__table__
_vol = Volume.__table__

COLUMNS = frozenset(c.name for c in _t.c)
SORT_KEYS = frozenset(COLUMNS - {"metadata"})
_IMMUTABLE = {"id", "created_at", "deleted", "deleted_at", "volume_id"}


def _dict(row):
    d = row_to_dict(row)
    if d is not None:
        d["metadata"] = d.get("metadata") or {}
    return d


def _clean(values):
    out = {k: v for k, v in values.items() if k in COLUMNS}
    if "metadata_" in values and "metadata" not in out:
        out["metadata"] = values["metadata_"]
    return out


def _select(conn, snapshot_id, read_deleted="no"):
    return conn.execute(sa.select(_t).where(
        _t.c.id == snapshot_id, paging.deleted_clause(_t, read_deleted))).first()


def prepare_row(values):
    """A complete ``snapshots`` row from ``values`` (defaults filled in:
    ``id``, status ``creating``, progress ``0%``, ``metadata``)."""
    row = _clean(values)
    row.setdefault("id", new_uuid())
    row.setdefault("status", states.SNAP_CREATING)
    row.setdefault("progress", "0%")
    row.setdefault("metadata", {})
    row.setdefault("deleted", False)
    row.setdefault("created_at", utcnow())
    return row


def insert_snapshot_in(conn, row):
    """INSERT a :func:`prepare_row` row inside the caller's transaction."""
    conn.execute(_t.insert(), row)


@retry_on_db_error
def create_snapshot(engine, values):
    """Insert a snapshot without quota or volume checks (tests, imports).

    :param values: ``volume_id``, ``project_id``, ``volume_size`` (GiB)
        required; optional ``id``, ``user_id``, ``status``,
        ``display_name``, ``display_description``, ``volume_type_id``,
        ``metadata``. Idempotent on ``id``.
    """
    row = prepare_row(values)
    with engine.begin() as conn:
        if _select(conn, row["id"], "yes") is None:
            insert_snapshot_in(conn, row)
        return _dict(_select(conn, row["id"], "yes"))


@retry_on_db_error
def get_snapshot(engine, snapshot_id, read_deleted="no", project_id=None):
    """The snapshot dict; raises :class:`SnapshotNotFound` (also for another
    project's snapshot when ``project_id`` is given)."""
    with engine.connect() as conn:
        return get_snapshot_in(conn, snapshot_id, read_deleted, project_id)


def get_snapshot_in(conn, snapshot_id, read_deleted="no", project_id=None):
    """:func:`get_snapshot` on the caller's connection (reads a row back on
    the connection that wrote it, see ``volumes.get_volume_in``)."""
    row = _select(conn, snapshot_id, read_deleted)
    if row is None or (project_id is not None and row.project_id != project_id):
        raise vexc.SnapshotNotFound(snapshot_id=snapshot_id)
    return _dict(row)


#: Snapshot filters that are ``column IN values``.
_IN_FILTERS = ("id", "status", "volume_id", "project_id", "user_id", "volume_type_id")


def _apply_filters(query, filters):
    for key, value in (filters or {}).items():
        if value is None:
            continue
        clause = paging.common_filter_clause(_t, key, value, _IN_FILTERS)
        if clause is None:
            raise ValueError("unknown snapshot filter %r" % key)
        query = query.where(clause)
    return query


@retry_on_db_error
def list_snapshots(engine, project_id=None, filters=None, limit=None, marker=None,
                   sort=None, read_deleted="no"):
    """Snapshots as dicts (Cinder's ``snapshot_get_all``).

    :param filters: ``name`` (exact), ``name~`` (substring), ``metadata``
        (dict), ``id``, ``status``, ``volume_id``, ``user_id``,
        ``volume_type_id`` (value or list). Unknown keys raise ValueError.
    :param marker: id of the last snapshot of the previous page.
    :param sort: ``[(key, "asc"|"desc")]``, default ``created_at desc``.
    """
    query = sa.select(_t).where(paging.deleted_clause(_t, read_deleted))
    if project_id is not None:
        query = query.where(_t.c.project_id == project_id)
    query = _apply_filters(query, filters)
    with engine.connect() as conn:
        rows = paging.paginate(conn, _t, query, sort, limit, marker, SORT_KEYS)
    return [_dict(r) for r in rows]


@retry_on_db_error
def update_snapshot(engine, snapshot_id, values, expected_status=None):
    """Update a (not deleted) snapshot; CAS on ``status`` when
    ``expected_status`` (a status or list) is given.

    :returns: the snapshot dict after the update.
    :raises SnapshotNotFound, SnapshotInvalidState (409).
    """
    vals = {k: v for k, v in _clean(values).items() if k not in _IMMUTABLE}
    vals["updated_at"] = utcnow()
    exp = paging.as_list(expected_status)
    where = [_t.c.id == snapshot_id, _t.c.deleted.is_(sa.false())]
    if exp is not None:
        where.append(paging.in_clause(_t.c.status, exp))
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(*where).values(**vals))
        row = _select(conn, snapshot_id)
    if row is None:
        raise vexc.SnapshotNotFound(snapshot_id=snapshot_id)
    if res.rowcount == 0:
        raise vexc.SnapshotInvalidState(snapshot_id=snapshot_id, expected=exp,
                                        actual=row.status)
    return _dict(row)


def begin_delete(engine, snapshot_id, expected_status=states.SNAP_DELETABLE,
                 project_id=None):
    """CAS the snapshot to ``deleting`` from ``expected_status``.

    :raises SnapshotNotFound, SnapshotInvalidState (409).
    """
    if project_id is not None:
        get_snapshot(engine, snapshot_id, project_id=project_id)
    return update_snapshot(engine, snapshot_id, {"status": states.SNAP_DELETING},
                           expected_status=expected_status)


@retry_on_db_error
def soft_delete_snapshot(engine, snapshot_id, expected_status=None):
    """Mark the snapshot deleted (status ``deleted``, ``deleted_at`` now).

    Idempotent for an already deleted snapshot. Raises SnapshotNotFound when
    it never existed, SnapshotInvalidState when the CAS failed.
    """
    now = utcnow()
    exp = paging.as_list(expected_status)
    where = [_t.c.id == snapshot_id, _t.c.deleted.is_(sa.false())]
    if exp is not None:
        where.append(paging.in_clause(_t.c.status, exp))
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(*where).values(
            deleted=True, deleted_at=now, status=states.SNAP_DELETED, updated_at=now))
        row = _select(conn, snapshot_id, "yes")
    if row is None:
        raise vexc.SnapshotNotFound(snapshot_id=snapshot_id)
    if res.rowcount == 0 and not row.deleted:
        raise vexc.SnapshotInvalidState(snapshot_id=snapshot_id, expected=exp,
                                        actual=row.status)
    return _dict(row)


@retry_on_db_error
def update_snapshot_metadata(engine, snapshot_id, metadata, delete=False,
                             key_to_delete=None):
    """Like :func:`controlplane.db.volumes.update_volume_metadata` for a
    snapshot. :returns: the metadata after the change."""
    with engine.begin() as conn:
        row = _select(conn, snapshot_id)
        if row is None:
            raise vexc.SnapshotNotFound(snapshot_id=snapshot_id)
        new = volumes.merge_metadata(row.metadata, metadata, delete, key_to_delete)
        conn.execute(_t.update().where(_t.c.id == snapshot_id)
                     .values(metadata=new, updated_at=utcnow()))
    return new


@retry_on_db_error
def count_snapshots_of_volume(engine, volume_id):
    """Non-deleted snapshots of a volume."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count(_t.c.id)).where(
            _t.c.volume_id == volume_id, _t.c.deleted.is_(sa.false()))).scalar())
