"""Compute nodes and their allocations (one cell database).

Every function takes the cell's ``engine`` (see
:func:`controlplane.db.engine.cell_engine`) and returns plain dicts.

Resource accounting follows Placement's model (Nova since Pike), kept in the
cell database instead of a separate service:

* the compute service reports *totals* (``vcpus``, ``memory_mb``,
  ``local_gb``), allocation ratios and reserved amounts with
  :func:`upsert_compute_node`; it never writes ``*_used``;
* the scheduler :func:`claim`\\ s an instance's resources with one
  conditional ``UPDATE`` plus an ``allocations`` row, and
  :func:`release` gives them back; ``*_used`` is the sum of allocations.

Capacity of a resource is ``(total - reserved) * allocation_ratio`` with
reserved disk rounded up to whole GiB (``ceil(reserved_host_disk_mb / 1024)``),
exactly what the scheduler's Ram/Disk/Core filters use.
"""
import logging
import math

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane.db import models_cell as m
from controlplane.db.engine import new_uuid, retry_on_db_error, row_to_dict

LOG = logging.getLogger(__name__)

COMPUTE_BINARY = "controlplane-compute"

CN = m.ComputeNode.__table__
ALLOC = m.Allocation.__table__
SVC = m.Service.__table__

# Columns the compute service may report; *_used and generation are not among them.
REPORTED_FIELDS = (
    "service_id", "hypervisor_type", "hypervisor_version", "host_ip", "cpu_info",
    "vcpus", "memory_mb", "local_gb", "running_vms",
    "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio",
    "reserved_host_memory_mb", "reserved_host_disk_mb", "reserved_host_cpus",
    "supported_instances", "stats",
)


def capacity(node):
    """``{"vcpus", "memory_mb", "disk_gb"}`` claimable on ``node`` (a row dict).

    ``(total - reserved) * ratio`` per resource, as floats; the same formula
    as the conditional UPDATE of :func:`claim`.
    """
    return {
        "vcpus": (node["vcpus"] - node["reserved_host_cpus"]) * node["cpu_allocation_ratio"],
        "memory_mb": ((node["memory_mb"] - node["reserved_host_memory_mb"])
                      * node["ram_allocation_ratio"]),
        "disk_gb": ((node["local_gb"] - math.ceil(node["reserved_host_disk_mb"] / 1024))
                    * node["disk_allocation_ratio"]),
    }


def _node_dict(row):
    d = row_to_dict(row)
    if d is not None:
        d["supported_instances"] = d.get("supported_instances") or []
        d["stats"] = d.get("stats") or {}
    return d


@retry_on_db_error
def upsert_compute_node(engine, values):
    """Create or update the compute node ``(host, hypervisor_hostname)``.

    :param values: dict with ``host`` and ``hypervisor_hostname`` (required),
        optionally ``uuid`` (used only on create; a new one is generated
        otherwise) and any of :data:`REPORTED_FIELDS` (totals in vCPUs, MiB,
        GiB; ratios as floats; ``stats`` a dict of capabilities;
        ``supported_instances`` a list of ``[arch, hv_type, vm_mode]``).
        Unknown keys and ``*_used`` are ignored: usage belongs to claims.
    :returns: the node row as a dict after the write.
    """
    host = values["host"]
    nodename = values["hypervisor_hostname"]
    fields = {k: values[k] for k in REPORTED_FIELDS if k in values}
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(CN.c.id).where(CN.c.host == host,
                                     CN.c.hypervisor_hostname == nodename)).first()
        if row is None:
            ins = dict(fields)
            ins.update(host=host, hypervisor_hostname=nodename,
                       uuid=values.get("uuid") or new_uuid())
            for k in ("vcpus", "memory_mb", "local_gb"):
                ins.setdefault(k, 0)
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(CN).values(**ins))
            except sa_exc.IntegrityError:
                # Another report of the same node won the insert: update it.
                LOG.debug("compute node %s/%s created concurrently; updating", host, nodename)
                conn.execute(sa.update(CN).where(
                    CN.c.host == host, CN.c.hypervisor_hostname == nodename).values(**fields))
        else:
            # A re-reported node that was soft-deleted comes back.
            conn.execute(sa.update(CN).where(CN.c.id == row.id).values(deleted=0, **fields))
        out = conn.execute(sa.select(CN).where(
            CN.c.host == host, CN.c.hypervisor_hostname == nodename)).first()
    return _node_dict(out)


@retry_on_db_error
def get_compute_node(engine, compute_node_uuid):
    """The node with this uuid as a dict; raises ``ComputeNodeNotFound``."""
    from controlplane import exception
    with engine.connect() as conn:
        row = conn.execute(sa.select(CN).where(CN.c.uuid == compute_node_uuid,
                                               CN.c.deleted == 0)).first()
    if row is None:
        raise exception.ComputeNodeNotFound(node=compute_node_uuid)
    return _node_dict(row)


@retry_on_db_error
def get_compute_nodes(engine, host=None, nodename=None, uuids=None):
    """Non-deleted nodes matching every given criterion, as dicts.

    :param host: service host name; :param nodename: hypervisor_hostname;
    :param uuids: iterable of node uuids.
    """
    q = sa.select(CN).where(CN.c.deleted == 0)
    if host is not None:
        q = q.where(CN.c.host == host)
    if nodename is not None:
        q = q.where(CN.c.hypervisor_hostname == nodename)
    if uuids is not None:
        q = q.where(CN.c.uuid.in_(list(uuids)))
    with engine.connect() as conn:
        return [_node_dict(r) for r in conn.execute(q.order_by(CN.c.id))]


def list_compute_nodes(engine):
    """Every non-deleted node with its compute service, for os-hypervisors.

    Each dict is the node row plus ``service_host``, ``service_disabled``,
    ``service_disabled_reason``, ``service_forced_down``, ``last_seen_up``
    (naive UTC) and ``service_uuid`` (None when no service row exists).
    """
    return _nodes_with_services(engine, only_with_service=False)


def _nodes_with_services(engine, only_with_service):
    counts = (sa.select(ALLOC.c.compute_node_id, sa.func.count().label("n"))
              .group_by(ALLOC.c.compute_node_id).subquery())
    join = CN.outerjoin(SVC, sa.and_(SVC.c.host == CN.c.host,
                                     SVC.c.binary == COMPUTE_BINARY))
    join = join.outerjoin(counts, counts.c.compute_node_id == CN.c.id)
    q = (sa.select(CN, SVC.c.host.label("service_host"),
                   SVC.c.uuid.label("service_uuid"),
                   SVC.c.disabled.label("service_disabled"),
                   SVC.c.disabled_reason.label("service_disabled_reason"),
                   SVC.c.forced_down.label("service_forced_down"),
                   SVC.c.last_seen_up,
                   sa.func.coalesce(counts.c.n, 0).label("num_instances"))
         .select_from(join).where(CN.c.deleted == 0).order_by(CN.c.id))
    if only_with_service:
        q = q.where(SVC.c.id.isnot(None))
    with engine.connect() as conn:
        return [_node_dict(r) for r in conn.execute(q)]


def get_host_state_rows(engine):
    """Rows the scheduler builds its HostStates from (one per node).

    Only nodes whose host has a ``controlplane-compute`` service row (as in
    Nova, a node without a service is not schedulable). Same shape as
    :func:`list_compute_nodes`, with ``num_instances`` = allocations on the node.
    """
    return _nodes_with_services(engine, only_with_service=True)


@retry_on_db_error
def get_allocation(engine, instance_uuid):
    """The allocation of an instance as a dict (with ``compute_node_uuid``) or None."""
    q = (sa.select(ALLOC, CN.c.uuid.label("compute_node_uuid"), CN.c.host,
                   CN.c.hypervisor_hostname)
         .select_from(ALLOC.join(CN, CN.c.id == ALLOC.c.compute_node_id))
         .where(ALLOC.c.instance_uuid == instance_uuid))
    with engine.connect() as conn:
        return row_to_dict(conn.execute(q).first())


def _fits(resource_used, total, reserved, ratio, requested):
    """SQL condition ``used + requested <= (total - reserved) * ratio``
    (``requested`` a number, 0 meaning no condition, or a bind parameter)."""
    if isinstance(requested, (int, float)) and not requested:
        return sa.true()
    return resource_used + requested <= (total - reserved) * ratio


class _AlreadyAllocated(Exception):
    def __init__(self, node_uuid):
        self.node_uuid = node_uuid


# The claim's statements are built once (per combination of requested
# resources, since a resource requested as 0 is not checked) and executed
# with bound parameters: the scheduler runs them for every instance.
_CLAIM_EXISTING = (sa.select(CN.c.uuid)
                   .select_from(ALLOC.join(CN, CN.c.id == ALLOC.c.compute_node_id))
                   .where(ALLOC.c.instance_uuid == sa.bindparam("b_instance_uuid")))
_CLAIM_INSERT_ALLOC = sa.insert(ALLOC).from_select(
    ["instance_uuid", "compute_node_id", "vcpus", "memory_mb", "disk_gb"],
    sa.select(sa.bindparam("b_instance_uuid", type_=sa.String),
              CN.c.id,
              sa.bindparam("b_vcpus", type_=sa.Integer),
              sa.bindparam("b_memory_mb", type_=sa.Integer),
              sa.bindparam("b_disk_gb", type_=sa.Integer))
    .where(CN.c.uuid == sa.bindparam("b_node_uuid")))
_claim_updates = {}


def _claim_update(want_vcpus, want_ram, want_disk):
    """The conditional UPDATE of a claim (see :func:`claim`)."""
    key = (want_vcpus, want_ram, want_disk)
    stmt = _claim_updates.get(key)
    if stmt is None:
        v = sa.bindparam("b_vcpus", type_=sa.Integer)
        mem = sa.bindparam("b_memory_mb", type_=sa.Integer)
        d = sa.bindparam("b_disk_gb", type_=sa.Integer)
        reserved_disk_gb = sa.func.ceil(CN.c.reserved_host_disk_mb / 1024.0)
        cond = sa.and_(
            CN.c.uuid == sa.bindparam("b_node_uuid"), CN.c.deleted == 0,
            _fits(CN.c.vcpus_used, CN.c.vcpus, CN.c.reserved_host_cpus,
                  CN.c.cpu_allocation_ratio, v) if want_vcpus else sa.true(),
            _fits(CN.c.memory_mb_used, CN.c.memory_mb, CN.c.reserved_host_memory_mb,
                  CN.c.ram_allocation_ratio, mem) if want_ram else sa.true(),
            _fits(CN.c.local_gb_used, CN.c.local_gb, reserved_disk_gb,
                  CN.c.disk_allocation_ratio, d) if want_disk else sa.true())
        stmt = sa.update(CN).where(cond).values(
            vcpus_used=CN.c.vcpus_used + v,
            memory_mb_used=CN.c.memory_mb_used + mem,
            local_gb_used=CN.c.local_gb_used + d,
            generation=CN.c.generation + 1)
        _claim_updates[key] = stmt
    return stmt


@retry_on_db_error
def _claim_txn(engine, compute_node_uuid, instance_uuid, vcpus, memory_mb, disk_gb):
    params = {"b_node_uuid": compute_node_uuid, "b_instance_uuid": instance_uuid,
              "b_vcpus": vcpus, "b_memory_mb": memory_mb, "b_disk_gb": disk_gb}
    with engine.begin() as conn:
        existing = conn.execute(_CLAIM_EXISTING, params).first()
        if existing is not None:
            raise _AlreadyAllocated(existing.uuid)
        res = conn.execute(_claim_update(bool(vcpus), bool(memory_mb), bool(disk_gb)),
                           params)
        if res.rowcount != 1:
            return False
        # the allocation row takes the node's id in the same statement
        conn.execute(_CLAIM_INSERT_ALLOC, params)
    return True


def claim(engine, compute_node_uuid, instance_uuid, vcpus, memory_mb, disk_gb):
    """Atomically take ``vcpus``/``memory_mb`` (MiB)/``disk_gb`` (GiB) on a node.

    One transaction: a conditional ``UPDATE compute_nodes`` that adds the
    request to ``*_used`` only where, for each requested resource,
    ``used + requested <= (total - reserved) * allocation_ratio`` (and bumps
    ``generation``), then an ``INSERT`` into ``allocations``. Two schedulers
    racing for the last slot cannot both win: the UPDATE is the
    serialisation point (row lock locally, certification on Galera).

    :returns: True when the instance holds an allocation on this node
        (including when it already did: idempotent, nothing counted twice);
        False when the node lacks capacity, does not exist, or the instance
        is already allocated on *another* node (release it first).
    """
    for _ in range(2):
        try:
            ok = _claim_txn(engine, compute_node_uuid, instance_uuid,
                            int(vcpus), int(memory_mb), int(disk_gb))
        except _AlreadyAllocated as e:
            if e.node_uuid == compute_node_uuid:
                LOG.debug("instance %s already holds an allocation on %s",
                          instance_uuid, compute_node_uuid)
                return True
            LOG.warning("claim of %s on node %s refused: the instance is allocated on %s",
                        instance_uuid, compute_node_uuid, e.node_uuid)
            return False
        except sa_exc.IntegrityError:
            # A concurrent claim of the same instance inserted its allocation
            # first; our whole transaction rolled back. Look again.
            LOG.debug("concurrent claim of instance %s; re-checking", instance_uuid)
            continue
        if not ok:
            LOG.debug("claim of %s on node %s failed: not enough capacity",
                      instance_uuid, compute_node_uuid)
        return ok
    return False


@retry_on_db_error
def release(engine, instance_uuid):
    """Delete the instance's allocation and subtract it from its node's usage.

    One transaction; idempotent: returns True when an allocation was removed,
    False when there was none (already released or never claimed).
    """
    with engine.begin() as conn:
        alloc = conn.execute(sa.select(ALLOC).where(
            ALLOC.c.instance_uuid == instance_uuid)).first()
        if alloc is None:
            return False
        res = conn.execute(sa.delete(ALLOC).where(ALLOC.c.id == alloc.id))
        if res.rowcount != 1:
            return False  # a concurrent release won
        conn.execute(sa.update(CN).where(CN.c.id == alloc.compute_node_id).values(
            vcpus_used=CN.c.vcpus_used - alloc.vcpus,
            memory_mb_used=CN.c.memory_mb_used - alloc.memory_mb,
            local_gb_used=CN.c.local_gb_used - alloc.disk_gb,
            generation=CN.c.generation + 1))
    return True


@retry_on_db_error
def heal_usage(engine, compute_node_uuid):
    """Recompute a node's ``*_used`` as the sums of its allocations.

    For drift after manual repairs. One UPDATE with correlated sums.
    :returns: the node row dict after the update; raises ``ComputeNodeNotFound``.
    """
    def total(col):
        return (sa.select(sa.func.coalesce(sa.func.sum(col), 0))
                .where(ALLOC.c.compute_node_id == CN.c.id).scalar_subquery())
    with engine.begin() as conn:
        res = conn.execute(sa.update(CN).where(CN.c.uuid == compute_node_uuid).values(
            vcpus_used=total(ALLOC.c.vcpus),
            memory_mb_used=total(ALLOC.c.memory_mb),
            local_gb_used=total(ALLOC.c.disk_gb),
            generation=CN.c.generation + 1))
        if res.rowcount == 0:
            from controlplane import exception
            raise exception.ComputeNodeNotFound(node=compute_node_uuid)
    return get_compute_node(engine, compute_node_uuid)


@retry_on_db_error
def delete_compute_node(engine, compute_node_uuid):
    """Soft-delete a node (``deleted = id``); True if a row was changed."""
    with engine.begin() as conn:
        res = conn.execute(sa.update(CN).where(CN.c.uuid == compute_node_uuid,
                                               CN.c.deleted == 0)
                           .values(deleted=CN.c.id))
    return res.rowcount == 1
