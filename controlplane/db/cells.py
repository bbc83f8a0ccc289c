"""Cells v2 mappings in the API database: cells, hosts and instances.

Source: Nova's cells v2 layout (doc "Cells (v2)"): ``cell_mappings`` says
where each cell's database and message queue are, ``host_mappings`` which
cell a compute host belongs to, ``instance_mappings`` which cell holds an
instance (NULL while it is only a build request). cell0 has the fixed uuid
:data:`CELL0_UUID` and holds instances that were never scheduled.
"""
import sqlalchemy as sa
from sqlalchemy.orm import Session

from controlplane import exception
from controlplane.db import engine as db_engine
from controlplane.db.engine import CELL0_UUID, retry_on_db_error
from controlplane.db.models_api import CellMapping, HostMapping, InstanceMapping

_CELL_COLS = ("id", "uuid", "name", "transport_url", "database_connection", "disabled")


def _cell_dict(row):
    return {k: getattr(row, k) for k in _CELL_COLS} if row is not None else None


@retry_on_db_error
def create_cell_mapping(uuid, name, transport_url, database_connection):
    """Create a cell mapping, or return the existing one with that uuid.

    :returns: the cell mapping dict (id, uuid, name, transport_url,
        database_connection, disabled).
    :raises exception.Conflict: another cell already has this name.
    """
    with db_engine.api_engine().begin() as conn:
        row = conn.execute(sa.select(CellMapping).where(CellMapping.uuid == uuid)).first()
        if row is not None:
            return _cell_dict(row)
        if name and conn.execute(sa.select(CellMapping.id).where(
                CellMapping.name == name)).first():
            raise exception.Conflict("A cell named %s already exists" % name)
        conn.execute(sa.insert(CellMapping).values(
            uuid=uuid, name=name, transport_url=transport_url,
            database_connection=database_connection, disabled=False))
        return _cell_dict(conn.execute(
            sa.select(CellMapping).where(CellMapping.uuid == uuid)).first())


@retry_on_db_error
def update_cell_mapping(uuid, **values):
    """Change name, transport_url, database_connection or disabled of a cell."""
    allowed = {k: v for k, v in values.items() if k in _CELL_COLS[2:]}
    with db_engine.api_engine().begin() as conn:
        res = conn.execute(sa.update(CellMapping).where(CellMapping.uuid == uuid)
                           .values(**allowed))
        if res.rowcount == 0 and not conn.execute(
                sa.select(CellMapping.id).where(CellMapping.uuid == uuid)).first():
            raise exception.NotFound("Cell %s could not be found" % uuid)


@retry_on_db_error
def get_cell_mapping(uuid=None, id=None, name=None):
    """One cell mapping by uuid, id or name.

    :raises exception.NotFound: no such cell.
    """
    q = sa.select(CellMapping)
    if uuid is not None:
        q = q.where(CellMapping.uuid == uuid)
    elif id is not None:
        q = q.where(CellMapping.id == id)
    elif name is not None:
        q = q.where(CellMapping.name == name)
    else:
        raise ValueError("get_cell_mapping needs uuid, id or name")
    with db_engine.api_engine().connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise exception.NotFound("Cell %s could not be found" % (uuid or id or name))
    return _cell_dict(row)


@retry_on_db_error
def list_cell_mappings(include_cell0=True):
    """Every cell mapping, cell0 first, then by id.

    :param include_cell0: False leaves cell0 out (what the scheduler and
        host discovery want).
    """
    q = sa.select(CellMapping).order_by(CellMapping.id)
    if not include_cell0:
        q = q.where(CellMapping.uuid != CELL0_UUID)
    with db_engine.api_engine().connect() as conn:
        rows = [_cell_dict(r) for r in conn.execute(q)]
    rows.sort(key=lambda c: (c["uuid"] != CELL0_UUID, c["id"]))
    return rows


@retry_on_db_error
def map_host(host, cell_uuid):
    """Map ``host`` to the cell (idempotent).

    :returns: True if a new mapping was made, False if it existed.
    :raises exception.Conflict: the host is already mapped to another cell.
    """
    cell = get_cell_mapping(uuid=cell_uuid)
    with db_engine.api_engine().begin() as conn:
        row = conn.execute(sa.select(HostMapping).where(HostMapping.host == host)).first()
        if row is not None:
            if row.cell_id != cell["id"]:
                raise exception.Conflict("Host %s is already mapped to another cell" % host)
            return False
        conn.execute(sa.insert(HostMapping).values(host=host, cell_id=cell["id"]))
        return True


def get_host_mapping(host):
    """The host's mapping with its cell: ``{"host", "cell_mapping": {...}}``.

    :raises exception.HostMappingNotFound: the host is not mapped (run
        ``controlplane-manage cell_v2 discover_hosts``).
    """
    with Session(db_engine.api_engine()) as conn:
        row = conn.execute(sa.select(HostMapping, CellMapping)
                           .join(CellMapping, HostMapping.cell_id == CellMapping.id)
                           .where(HostMapping.host == host)).first()
    if row is None:
        raise exception.HostMappingNotFound(
            "Host %s is not mapped to any cell" % host)
    return {"host": host, "cell_mapping": _cell_dict(row[1])}


@retry_on_db_error
def list_host_mappings():
    """``[{"host", "cell_uuid"}]`` for every mapped host."""
    with db_engine.api_engine().connect() as conn:
        rows = conn.execute(sa.select(HostMapping.host, CellMapping.uuid)
                            .join(CellMapping, HostMapping.cell_id == CellMapping.id)
                            .order_by(HostMapping.host)).all()
    return [{"host": h, "cell_uuid": c} for h, c in rows]


def create_instance_mapping(instance_uuid, project_id, user_id, vcpus, memory_mb,
                            cell_id=None, conn=None):
    """Insert an instance mapping (cell_id None: only a build request so far).

    :param conn: an open transaction of the API database to join (the
        quota check-and-create inserts mappings inside its own
        transaction); None runs a transaction of its own with retries.
    """
    values = dict(instance_uuid=instance_uuid, project_id=project_id, user_id=user_id,
                  vcpus=vcpus, memory_mb=memory_mb, cell_id=cell_id,
                  queued_for_delete=False)
    if conn is not None:
        conn.execute(sa.insert(InstanceMapping).values(**values))
        return
    _insert_instance_mapping(values)


@retry_on_db_error
def _insert_instance_mapping(values):
    with db_engine.api_engine().begin() as conn:
        conn.execute(sa.insert(InstanceMapping).values(**values))


_im = InstanceMapping.__table__
_cm = CellMapping.__table__
_IM_COLS = ("instance_uuid", "cell_id", "project_id", "user_id", "queued_for_delete",
            "vcpus", "memory_mb", "created_at")
#: instance mapping columns plus the cell's as ``cm_<column>`` (Core, no ORM:
#: this runs for every server the API shows and every build the conductor starts)
_IM_SELECT = (sa.select(*[_im.c[k] for k in _IM_COLS],
                        *[_cm.c[k].label("cm_" + k) for k in _CELL_COLS])
              .select_from(_im.outerjoin(_cm, _im.c.cell_id == _cm.c.id)))
_GET_IM = _IM_SELECT.where(_im.c.instance_uuid == sa.bindparam("instance_uuid"))
_SET_IM_CELL = (_im.update().where(_im.c.instance_uuid == sa.bindparam("b_uuid"))
                .values(cell_id=sa.bindparam("b_cell_id")))


def _im_row_dict(row):
    m = row._mapping
    out = {k: m[k] for k in _IM_COLS}
    out["queued_for_delete"] = bool(out["queued_for_delete"])
    out["cell_mapping"] = ({k: m["cm_" + k] for k in _CELL_COLS}
                           if m["cm_id"] is not None
                           else None)
    return out


@retry_on_db_error
def get_instance_mapping(instance_uuid):
    """The mapping with its ``cell_mapping`` (None while unscheduled).

    :raises exception.InstanceMappingNotFound: no such instance.
    """
    with db_engine.api_engine().connect() as conn:
        row = conn.execute(_GET_IM, {"instance_uuid": instance_uuid}).first()
    if row is None:
        raise exception.InstanceMappingNotFound(
            "Instance %s could not be found." % instance_uuid)
    return _im_row_dict(row)


@retry_on_db_error
def list_instance_mappings(project_id=None, include_queued_for_delete=False):
    """Mappings of a project (or all), each with its ``cell_mapping``."""
    q = _IM_SELECT.order_by(_im.c.id)
    if project_id is not None:
        q = q.where(_im.c.project_id == project_id)
    if not include_queued_for_delete:
        q = q.where(_im.c.queued_for_delete.is_(False))
    with db_engine.api_engine().connect() as conn:
        return [_im_row_dict(r) for r in conn.execute(q)]


@retry_on_db_error
def set_instance_mapping_cell(instance_uuid, cell_id):
    """Point the mapping at the cell that now holds the instance (idempotent)."""
    with db_engine.api_engine().begin() as conn:
        conn.execute(_SET_IM_CELL, {"b_uuid": instance_uuid, "b_cell_id": cell_id})


@retry_on_db_error
def queue_instance_mapping_for_delete(instance_uuid):
    """Mark the instance as being deleted: it no longer counts against quota.

    :returns: True if the mapping existed.
    """
    with db_engine.api_engine().begin() as conn:
        res = conn.execute(sa.update(InstanceMapping)
                           .where(InstanceMapping.instance_uuid == instance_uuid)
                           .values(queued_for_delete=True))
        return res.rowcount > 0


@retry_on_db_error
def delete_instance_mapping(instance_uuid):
    """Remove the mapping (idempotent). :returns: True if a row was deleted."""
    with db_engine.api_engine().begin() as conn:
        res = conn.execute(sa.delete(InstanceMapping)
                           .where(InstanceMapping.instance_uuid == instance_uuid))
        return res.rowcount > 0
