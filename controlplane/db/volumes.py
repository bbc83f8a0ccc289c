"""Volumes and volume attachments (API database).

Follows Cinder's ``cinder.db.sqlalchemy.api`` volume functions: soft delete
(``deleted`` true, ``deleted_at``), ``read_deleted`` = ``"no" | "yes" |
"only"``, and ``conditional_update``: every status change is one
``UPDATE volumes SET ... WHERE id = :id AND status IN (:expected)``, the
serialisation point Galera certifies; of two racing requests exactly one
matches, the other gets :class:`VolumeInvalidState` (HTTP 409).

Every function takes the API database ``engine`` first
(:func:`controlplane.db.engine.api_engine`) and returns plain dicts with
every column of ``volumes`` (``metadata`` and ``glance_metadata`` as dicts,
sizes in GiB, times naive UTC). Attachment dicts have every column of
``volume_attachments`` (``connector``/``connection_info`` dicts or None).
"""
import logging

import sqlalchemy as sa

from controlplane.db import paging
from controlplane.db.engine import new_uuid, retry_on_db_error, row_to_dict
from controlplane.db.models_volume import Snapshot, Volume, VolumeAttachment
from controlplane.db.services import utcnow
from controlplane.volume import exception as vexc
from controlplane.volume import states

LOG = logging.getLogger(__name__)

_t = Volume.__table__
_att = VolumeAttachment.__table__
_snap = Snapshot.__table__

COLUMNS = frozenset(c.name for c in _t.c)
#: keys :func:`list_volumes` sorts by
SORT_KEYS = frozenset(COLUMNS - {"metadata", "glance_metadata"})
#: keys :func:`update_volume` never writes
_IMMUTABLE = {"id", "created_at", "deleted", "deleted_at"}


def _clean(values):
    out = {k: v for k, v in values.items() if k in COLUMNS}
    if "metadata_" in values and "metadata" not in out:
        out["metadata"] = values["metadata_"]
    return out


def _dict(row):
    d = row_to_dict(row)
    if d is not None:
        d["metadata"] = d.get("metadata") or {}
        d["glance_metadata"] = d.get("glance_metadata") or {}
    return d


def _select(conn, volume_id, read_deleted="no"):
    return conn.execute(sa.select(_t).where(
        _t.c.id == volume_id, paging.deleted_clause(_t, read_deleted))).first()


@retry_on_db_error
def create_volume(engine, values):
    """Insert a volume and return it.

    :param values: dict with ``project_id`` and ``size`` (GiB) required;
        optional ``id`` (generated when absent), ``status`` (default
        ``creating``), ``attach_status`` (``detached``), ``user_id``,
        ``display_name``, ``display_description``, ``availability_zone``,
        ``volume_type_id``, ``host``, ``source_volid``, ``snapshot_id``,
        ``image_id``, ``bootable``, ``multiattach``, ``metadata`` (dict).
        Unknown keys are ignored. Idempotent on ``id``: an existing row is
        returned unchanged.
    Quota-checked creation is :func:`controlplane.db.volume_quotas.create_volume_within_quota`.
    """
    row = prepare_row(values)
    with engine.begin() as conn:
        if conn.execute(sa.select(_t.c.id).where(_t.c.id == row["id"])).first() is None:
            insert_volume_in(conn, row)
        return _dict(_select(conn, row["id"], "yes"))


def prepare_row(values):
    """A complete ``volumes`` row from ``values`` (unknown keys dropped,
    defaults filled in: ``id``, status ``creating``, ``detached``, empty
    metadata, not bootable, not multiattach, ``created_at`` now)."""
    row = _clean(values)
    row.setdefault("id", new_uuid())
    row.setdefault("status", states.CREATING)
    row.setdefault("attach_status", states.DETACHED)
    row.setdefault("metadata", {})
    row.setdefault("glance_metadata", {})
    row.setdefault("bootable", False)
    row.setdefault("multiattach", False)
    row.setdefault("deleted", False)
    row.setdefault("created_at", utcnow())
    return row


def insert_volume_in(conn, row):
    """INSERT a prepared volume row inside the caller's transaction (used by
    the quota module); ``row`` must have every NOT NULL column."""
    conn.execute(_t.insert(), row)


@retry_on_db_error
def get_volume(engine, volume_id, read_deleted="no", project_id=None):
    """The volume dict; raises :class:`VolumeNotFound`.

    :param project_id: when given, a volume of another project is not found
        (Cinder's ``project_only``).
    """
    with engine.connect() as conn:
        return get_volume_in(conn, volume_id, read_deleted, project_id)


def get_volume_in(conn, volume_id, read_deleted="no", project_id=None):
    """:func:`get_volume` on the caller's connection. Read a row back on the
    connection that wrote it: another pooled connection may reach another
    Galera node (a HAProxy failover leaves older connections where they
    were) that has not applied the write yet."""
    row = _select(conn, volume_id, read_deleted)
    if row is None or (project_id is not None and row.project_id != project_id):
        raise vexc.VolumeNotFound(volume_id=volume_id)
    return _dict(row)


#: Volume filters that are ``column IN values`` (a None matches NULL).
_IN_FILTERS = ("id", "status", "host", "volume_type_id", "availability_zone",
               "attach_status", "source_volid", "snapshot_id", "image_id",
               "user_id", "project_id", "migration_status")
#: Filters kept when None: they then select the rows where the column is NULL.
_NULLABLE_FILTERS = ("host", "volume_type_id", "availability_zone")


def _apply_filters(query, filters):
    for key, value in (filters or {}).items():
        if value is None and key not in _NULLABLE_FILTERS:
            continue
        clause = paging.common_filter_clause(_t, key, value, _IN_FILTERS)
        if clause is not None:
            query = query.where(clause)
        elif key in ("description", "display_description"):
            query = query.where(_t.c.display_description == value)
        elif key in ("changes-since", "changes_since", "updated_at_gte"):
            query = query.where(_t.c.updated_at >= value)
        elif key == "created_at_gte":
            query = query.where(_t.c.created_at >= value)
        elif key == "created_at_lte":
            query = query.where(_t.c.created_at <= value)
        elif key == "bootable":
            query = query.where(_t.c.bootable.is_(sa.true() if value else sa.false()))
        else:
            raise ValueError("unknown volume filter %r" % key)
    return query


@retry_on_db_error
def list_volumes(engine, project_id=None, filters=None, limit=None, marker=None,
                 sort=None, read_deleted="no"):
    """Volumes as dicts, paginated like Cinder's ``volume_get_all``.

    :param project_id: only this project's volumes (None: every project).
    :param filters: dict; ``name``/``display_name`` (exact), ``name~``
        (substring), ``description``, ``metadata`` (dict, every pair must
        match), ``changes-since`` / ``created_at_gte`` / ``created_at_lte``
        (datetimes), ``bootable`` (bool), and ``id``, ``status``, ``host``,
        ``volume_type_id``, ``availability_zone``, ``attach_status``,
        ``source_volid``, ``snapshot_id``, ``image_id``, ``user_id``
        (value or list; None matches NULL). Unknown keys raise ValueError.
    :param limit: most rows (None: all); :param marker: id of the last
        volume of the previous page (MarkerNotFound, HTTP 400, if unknown).
    :param sort: list of ``(key, "asc"|"desc")``, default
        ``[("created_at", "desc")]``; keys from :data:`SORT_KEYS`.
    """
    query = sa.select(_t).where(paging.deleted_clause(_t, read_deleted))
    if project_id is not None:
        query = query.where(_t.c.project_id == project_id)
    query = _apply_filters(query, filters)
    with engine.connect() as conn:
        rows = paging.paginate(conn, _t, query, sort, limit, marker, SORT_KEYS)
    return [_dict(r) for r in rows]


@retry_on_db_error
def count_volumes(engine, project_id=None, filters=None):
    """Number of non-deleted volumes matching (for ``/volumes?with_count``)."""
    query = sa.select(sa.func.count(_t.c.id)).where(_t.c.deleted.is_(sa.false()))
    if project_id is not None:
        query = query.where(_t.c.project_id == project_id)
    query = _apply_filters(query, filters)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar())


@retry_on_db_error
def update_volume(engine, volume_id, values, expected_status=None,
                  expected_attach_status=None):
    """Update a (not deleted) volume as a compare-and-swap.

    :param values: columns to set (``id``, ``created_at``, ``deleted*`` are
        ignored; ``updated_at`` is set to now).
    :param expected_status: None (no check), a status or a list: the
        current ``status`` must be one of them.
    :param expected_attach_status: the same for ``attach_status``.
    :returns: the volume dict after the update.
    :raises VolumeNotFound: no such volume.
    :raises VolumeInvalidState: the status did not match (HTTP 409); its
        ``kwargs["actual"]`` is the status found.
    """
    vals = {k: v for k, v in _clean(values).items() if k not in _IMMUTABLE}
    vals["updated_at"] = utcnow()
    exp = paging.as_list(expected_status)
    exp_att = paging.as_list(expected_attach_status)
    where = [_t.c.id == volume_id, _t.c.deleted.is_(sa.false())]
    if exp is not None:
        where.append(paging.in_clause(_t.c.status, exp))
    if exp_att is not None:
        where.append(paging.in_clause(_t.c.attach_status, exp_att))
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(*where).values(**vals))
        row = _select(conn, volume_id)
    if row is None:
        raise vexc.VolumeNotFound(volume_id=volume_id)
    if res.rowcount == 0:
        if exp is not None and row.status not in exp:
            raise vexc.VolumeInvalidState(volume_id=volume_id, expected=exp,
                                          actual=row.status)
        raise vexc.VolumeInvalidState(
            volume_id=volume_id, expected=exp_att or exp or "unchanged",
            actual=row.attach_status,
            message="Invalid volume: Volume %s attach status must be %s, but is %s." % (
                volume_id, " or ".join(str(e) for e in (exp_att or [])), row.attach_status))
    return _dict(row)


def transition(engine, volume_id, action, values=None):
    """Apply a :data:`controlplane.volume.states.VOLUME_ACTIONS` transition:
    CAS from the action's expected statuses to its new status (plus
    ``values``). Raises as :func:`update_volume`."""
    expected, new = states.expected_for(action)
    vals = dict(values or {})
    vals["status"] = new
    return update_volume(engine, volume_id, vals, expected_status=expected)


@retry_on_db_error
def begin_delete(engine, volume_id, expected_status=states.DELETABLE, project_id=None,
                 cascade=False):
    """CAS a volume to ``deleting`` if it may be deleted (Cinder's checks).

    In one transaction: the volume must be in ``expected_status``, not
    attached (``attach_status`` detached), and — unless ``cascade`` — have
    no snapshot that is not deleted.
    :returns: the volume dict in ``deleting``.
    :raises VolumeNotFound, VolumeInvalidState, VolumeHasSnapshots (409),
        VolumeAttached (409).
    """
    exp = paging.as_list(expected_status)
    with engine.begin() as conn:
        row = _select(conn, volume_id)
        if row is None or (project_id is not None and row.project_id != project_id):
            raise vexc.VolumeNotFound(volume_id=volume_id)
        snaps = sa.select(_snap.c.id).where(_snap.c.volume_id == volume_id,
                                            _snap.c.deleted.is_(sa.false()))
        where = [_t.c.id == volume_id, _t.c.deleted.is_(sa.false()),
                 paging.in_clause(_t.c.status, exp),
                 _t.c.attach_status.in_([states.DETACHED, states.ERROR_ATTACHING])]
        if not cascade:
            where.append(~sa.exists(snaps))
        res = conn.execute(_t.update().where(*where).values(
            status=states.DELETING, previous_status=row.status, updated_at=utcnow()))
        if res.rowcount == 1:
            return _dict(_select(conn, volume_id))
        row = _select(conn, volume_id)
        if row is None:
            raise vexc.VolumeNotFound(volume_id=volume_id)
        if row.status not in exp:
            raise vexc.VolumeInvalidState(volume_id=volume_id, expected=exp,
                                          actual=row.status)
        if row.attach_status not in (states.DETACHED, states.ERROR_ATTACHING):
            raise vexc.VolumeAttached(volume_id=volume_id)
        raise vexc.VolumeHasSnapshots(volume_id=volume_id)


@retry_on_db_error
def soft_delete_volume(engine, volume_id, expected_status=None):
    """Mark the volume deleted (``deleted`` true, ``status`` ``deleted``,
    ``deleted_at``/``terminated_at`` now) and its attachments too.

    :param expected_status: optional CAS on the status (e.g. ``deleting``).
    Idempotent: a deleted volume is returned as it is.
    :raises VolumeNotFound: never existed; VolumeInvalidState: the CAS failed.
    """
    now = utcnow()
    exp = paging.as_list(expected_status)
    where = [_t.c.id == volume_id, _t.c.deleted.is_(sa.false())]
    if exp is not None:
        where.append(paging.in_clause(_t.c.status, exp))
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(*where).values(
            deleted=True, deleted_at=now, terminated_at=now, status=states.DELETED,
            updated_at=now))
        if res.rowcount == 1:
            conn.execute(_att.update().where(_att.c.volume_id == volume_id,
                                             _att.c.deleted.is_(sa.false()))
                         .values(deleted=True, deleted_at=now,
                                 attach_status=states.DETACHED))
        row = _select(conn, volume_id, "yes")
    if row is None:
        raise vexc.VolumeNotFound(volume_id=volume_id)
    if res.rowcount == 0 and not row.deleted:
        raise vexc.VolumeInvalidState(volume_id=volume_id, expected=exp, actual=row.status)
    return _dict(row)


@retry_on_db_error
def update_volume_metadata(engine, volume_id, metadata, delete=False, key_to_delete=None):
    """Change a volume's user metadata.

    :param metadata: dict merged into the existing metadata, or (with
        ``delete=True``) the complete new metadata.
    :param key_to_delete: remove this key instead (raises KeyError when
        absent, which the API maps to 404).
    :returns: the metadata dict after the change.
    """
    with engine.begin() as conn:
        row = _select(conn, volume_id)
        if row is None:
            raise vexc.VolumeNotFound(volume_id=volume_id)
        new = merge_metadata(row.metadata, metadata, delete, key_to_delete)
        conn.execute(_t.update().where(_t.c.id == volume_id)
                     .values(metadata=new, updated_at=utcnow()))
    return new


def merge_metadata(current, metadata, delete=False, key_to_delete=None):
    """The user metadata after a change (Cinder's metadata API): ``metadata``
    merged into ``current``, or (``delete=True``) replacing it, or
    ``key_to_delete`` removed (KeyError when absent, which the API maps to
    404). Pure; shared by volumes and snapshots."""
    new = dict(current or {})
    if key_to_delete is not None:
        del new[key_to_delete]
        return new
    if delete:
        return dict(metadata)
    new.update(metadata)
    return new


@retry_on_db_error
def volumes_on_host(engine, host):
    """Non-deleted volumes whose ``host`` is ``host`` or starts with
    ``host#`` (a backend's volumes across its pools)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_t).where(
            _t.c.deleted.is_(sa.false()),
            sa.or_(_t.c.host == host, _t.c.host.like(host + "#%"))).order_by(_t.c.created_at))
        return [_dict(r) for r in rows]


# --- attachments -------------------------------------------------------------

def _att_dict(row):
    return row_to_dict(row)


@retry_on_db_error
def reserve_volume(engine, volume_id, instance_uuid=None, attached_host=None,
                   mountpoint=None, connector=None, attach_mode="rw", attachment_id=None,
                   project_id=None):
    """Create an attachment and reserve the volume in one transaction
    (Cinder's ``attachment_create`` / ``os-reserve``).

    The volume must be ``available`` (or ``in-use`` when it is
    ``multiattach``); it goes to ``reserved`` (a multiattach volume
    already in-use stays in-use) and the attachment is created with
    ``attach_status`` ``reserved``.
    :returns: the attachment dict.
    :raises VolumeNotFound, VolumeInvalidState (409).
    """
    now = utcnow()
    attachment_id = attachment_id or new_uuid()
    with engine.begin() as conn:
        row = _select(conn, volume_id)
        if row is None or (project_id is not None and row.project_id != project_id):
            raise vexc.VolumeNotFound(volume_id=volume_id)
        if row.multiattach and row.status == states.IN_USE:
            res = conn.execute(_t.update().where(
                _t.c.id == volume_id, _t.c.status == states.IN_USE,
                _t.c.deleted.is_(sa.false())).values(updated_at=now))
        else:
            res = conn.execute(_t.update().where(
                _t.c.id == volume_id, _t.c.status == states.AVAILABLE,
                _t.c.deleted.is_(sa.false())).values(
                    status=states.RESERVED, previous_status=states.AVAILABLE,
                    attach_status=states.ATTACH_RESERVED, updated_at=now))
        if res.rowcount != 1:
            raise vexc.VolumeInvalidState(volume_id=volume_id,
                                          expected=[states.AVAILABLE], actual=row.status)
        conn.execute(_att.insert(), {
            "id": attachment_id, "volume_id": volume_id, "instance_uuid": instance_uuid,
            "attached_host": attached_host, "mountpoint": mountpoint,
            "attach_mode": attach_mode, "attach_status": states.ATTACH_RESERVED,
            "connector": connector, "connection_info": None, "deleted": False,
            "created_at": now})
        return _att_dict(conn.execute(sa.select(_att).where(_att.c.id == attachment_id)).first())


@retry_on_db_error
def get_attachment(engine, attachment_id, read_deleted="no"):
    """The attachment dict; raises :class:`AttachmentNotFound`."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(_att).where(
            _att.c.id == attachment_id, paging.deleted_clause(_att, read_deleted))).first()
    if row is None:
        raise vexc.AttachmentNotFound(attachment_id=attachment_id)
    return _att_dict(row)


@retry_on_db_error
def list_attachments(engine, volume_id=None, instance_uuid=None, volume_ids=None,
                     read_deleted="no"):
    """Attachments matching every given criterion, oldest first.

    :param volume_ids: iterable of volume ids (for the ``attachments`` list
        of many volumes in one query).
    """
    q = sa.select(_att).where(paging.deleted_clause(_att, read_deleted))
    if volume_id is not None:
        q = q.where(_att.c.volume_id == volume_id)
    if volume_ids is not None:
        q = q.where(_att.c.volume_id.in_(list(volume_ids)))
    if instance_uuid is not None:
        q = q.where(_att.c.instance_uuid == instance_uuid)
    with engine.connect() as conn:
        return [_att_dict(r) for r in conn.execute(q.order_by(_att.c.created_at, _att.c.id))]


@retry_on_db_error
def update_attachment(engine, attachment_id, values, expected_attach_status=None):
    """Update an attachment (CAS on its ``attach_status`` when given).

    :param values: any of ``instance_uuid``, ``attached_host``,
        ``mountpoint``, ``attach_mode``, ``attach_status``, ``attach_time``,
        ``detach_time``, ``connector``, ``connection_info``.
    :raises AttachmentNotFound; VolumeInvalidState when the CAS failed.
    """
    allowed = {"instance_uuid", "attached_host", "mountpoint", "attach_mode",
               "attach_status", "attach_time", "detach_time", "connector",
               "connection_info"}
    vals = {k: v for k, v in values.items() if k in allowed}
    vals["updated_at"] = utcnow()
    where = [_att.c.id == attachment_id, _att.c.deleted.is_(sa.false())]
    exp = paging.as_list(expected_attach_status)
    if exp is not None:
        where.append(paging.in_clause(_att.c.attach_status, exp))
    with engine.begin() as conn:
        res = conn.execute(_att.update().where(*where).values(**vals))
        row = conn.execute(sa.select(_att).where(_att.c.id == attachment_id,
                                                 _att.c.deleted.is_(sa.false()))).first()
    if row is None:
        raise vexc.AttachmentNotFound(attachment_id=attachment_id)
    if res.rowcount == 0:
        raise vexc.VolumeInvalidState(
            volume_id=row.volume_id, expected=exp, actual=row.attach_status,
            message="Invalid attachment %s: attach status must be %s, but is %s." % (
                attachment_id, " or ".join(str(e) for e in exp), row.attach_status))
    return _att_dict(row)


@retry_on_db_error
def finish_attach(engine, attachment_id, mountpoint=None, connection_info=None,
                  attached_host=None, instance_uuid=None):
    """Mark an attachment ``attached`` and its volume ``in-use`` / ``attached``
    (Cinder's ``attachment_complete`` / ``os-attach``), in one transaction.

    The attachment must be ``reserved`` or ``attaching``; idempotent when it
    is already ``attached``. :returns: the attachment dict.
    """
    now = utcnow()
    with engine.begin() as conn:
        att = conn.execute(sa.select(_att).where(_att.c.id == attachment_id,
                                                 _att.c.deleted.is_(sa.false()))).first()
        if att is None:
            raise vexc.AttachmentNotFound(attachment_id=attachment_id)
        if att.attach_status != states.ATTACHED:
            vals = {"attach_status": states.ATTACHED, "attach_time": now, "updated_at": now}
            for k, v in (("mountpoint", mountpoint), ("connection_info", connection_info),
                         ("attached_host", attached_host), ("instance_uuid", instance_uuid)):
                if v is not None:
                    vals[k] = v
            res = conn.execute(_att.update().where(
                _att.c.id == attachment_id,
                _att.c.attach_status.in_([states.ATTACH_RESERVED, states.ATTACH_ATTACHING]))
                .values(**vals))
            if res.rowcount != 1:
                raise vexc.VolumeInvalidState(
                    volume_id=att.volume_id, expected=[states.ATTACH_RESERVED],
                    actual=att.attach_status)
            res = conn.execute(_t.update().where(
                _t.c.id == att.volume_id, _t.c.deleted.is_(sa.false()),
                _t.c.status.in_([states.RESERVED, states.ATTACHING, states.IN_USE,
                                 states.AVAILABLE])).values(
                    status=states.IN_USE, attach_status=states.ATTACHED, updated_at=now))
            if res.rowcount != 1:
                vol = _select(conn, att.volume_id)
                raise vexc.VolumeInvalidState(
                    volume_id=att.volume_id, expected=[states.RESERVED, states.ATTACHING],
                    actual=vol.status if vol is not None else None)
        return _att_dict(conn.execute(sa.select(_att).where(_att.c.id == attachment_id)).first())


@retry_on_db_error
def begin_detach(engine, volume_id, attachment_id=None):
    """CAS the volume ``in-use`` → ``detaching`` (Cinder's ``os-begin_detaching``)
    and, when given, the attachment → ``detaching``.
    :returns: the volume dict. Raises VolumeNotFound / VolumeInvalidState.
    """
    now = utcnow()
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(
            _t.c.id == volume_id, _t.c.deleted.is_(sa.false()),
            _t.c.status == states.IN_USE).values(
                status=states.DETACHING, previous_status=states.IN_USE, updated_at=now))
        row = _select(conn, volume_id)
        if row is None:
            raise vexc.VolumeNotFound(volume_id=volume_id)
        if res.rowcount != 1:
            raise vexc.VolumeInvalidState(volume_id=volume_id, expected=[states.IN_USE],
                                          actual=row.status)
        if attachment_id is not None:
            conn.execute(_att.update().where(_att.c.id == attachment_id,
                                             _att.c.deleted.is_(sa.false()))
                         .values(attach_status=states.ATTACH_DETACHING, updated_at=now))
        return _dict(row)


@retry_on_db_error
def finish_detach(engine, volume_id, attachment_id):
    """Soft-delete the attachment (``detached``) and, when no other
    attachment remains, set the volume ``available`` / ``detached``; else
    back to ``in-use`` (Cinder's ``attachment_delete`` / ``os-detach``).
    Works from ``reserved`` too (unreserve). Idempotent.
    :returns: the volume dict after the change.
    """
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(_att.update().where(_att.c.id == attachment_id,
                                         _att.c.volume_id == volume_id,
                                         _att.c.deleted.is_(sa.false()))
                     .values(attach_status=states.DETACHED, detach_time=now, deleted=True,
                             deleted_at=now, updated_at=now))
        left = conn.execute(sa.select(sa.func.count(_att.c.id)).where(
            _att.c.volume_id == volume_id, _att.c.deleted.is_(sa.false()),
            _att.c.attach_status == states.ATTACHED)).scalar()
        busy = (states.IN_USE, states.DETACHING, states.RESERVED, states.ATTACHING)
        if left:
            vals = {"status": states.IN_USE, "attach_status": states.ATTACHED}
        else:
            vals = {"status": states.AVAILABLE, "attach_status": states.DETACHED}
        conn.execute(_t.update().where(_t.c.id == volume_id, _t.c.deleted.is_(sa.false()),
                                       _t.c.status.in_(busy))
                     .values(updated_at=now, **vals))
        row = _select(conn, volume_id)
    if row is None:
        raise vexc.VolumeNotFound(volume_id=volume_id)
    return _dict(row)
