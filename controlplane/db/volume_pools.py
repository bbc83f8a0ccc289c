"""Backend pools: capability reports and atomic capacity claims (API database).

Each backend of ``controlplane-volume`` reports its pools with
:func:`report_pools` (Cinder's ``update_service_capabilities``, written to
the database so every scheduler instance sees it). Pool names are Cinder's
``hostname@backend#pool``.

Reported by the volume service: ``total_capacity_gb``, ``free_capacity_gb``
(GiB, floats), ``thin_provisioning_support``, ``thick_provisioning_support``,
``max_over_subscription_ratio``, ``reserved_percentage``,
``volume_backend_name``, ``availability_zone``, ``capabilities`` (every
other key of the report, for the CapabilitiesFilter). Written only by
claims: ``allocated_capacity_gb`` and ``provisioned_capacity_gb`` (sums of
the sizes in ``volume_allocations``; Cinder's provisioned capacity defaults
to the allocated capacity when a driver does not report it).

:func:`claim` is one conditional UPDATE that re-checks Cinder's
CapacityFilter rule in SQL (see :func:`claim` and
``controlplane.volume.scheduler.capacity``) and consumes the request the
way Cinder's ``HostState.consume_from_volume`` does (allocated and
provisioned += size, free -= size), plus the allocation row. Two
schedulers racing for the last GiB cannot both win. A report overwrites
``free_capacity_gb`` with the measured value; the claim's subtraction only
covers the time until then.
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane.db.engine import retry_on_db_error, row_to_dict
from controlplane.db.models_volume import VolumeAllocation, VolumePool, VolumeService
from controlplane.db.services import utcnow
from controlplane.db.volume_services import VOLUME_BINARY

LOG = logging.getLogger(__name__)

P = VolumePool.__table__
A = VolumeAllocation.__table__
S = VolumeService.__table__

#: columns a capability report writes (besides ``capabilities``)
REPORTED_FIELDS = ("volume_backend_name", "availability_zone", "total_capacity_gb",
                   "free_capacity_gb", "thin_provisioning_support",
                   "thick_provisioning_support", "max_over_subscription_ratio",
                   "reserved_percentage")
_NOT_CAPABILITIES = set(REPORTED_FIELDS) | {
    "pool_name", "name", "host", "backend", "pool", "allocated_capacity_gb",
    "provisioned_capacity_gb", "capabilities"}


def pool_name(host, backend, pool):
    """Cinder's pool address ``host@backend#pool``."""
    return "%s@%s#%s" % (host, backend, pool)


def split_pool_name(name):
    """``(host, backend, pool)`` of ``host@backend#pool`` (missing parts None)."""
    rest, _, pool = name.partition("#")
    host, _, backend = rest.partition("@")
    return host, backend or None, pool or None


def _dict(row):
    d = row_to_dict(row)
    if d is not None:
        d["capabilities"] = d.get("capabilities") or {}
    return d


@retry_on_db_error
def report_pools(engine, host, backend, pools):
    """Create or update the pools of one backend (a capability report).

    :param host: host name of the volume service; :param backend: backend
        (config section) name.
    :param pools: list of dicts, each with ``pool_name`` and any of
        :data:`REPORTED_FIELDS`; other keys (e.g. ``QoS_support``,
        ``storage_protocol``, ``vendor_name``) go to ``capabilities``.
        ``allocated_capacity_gb`` / ``provisioned_capacity_gb`` are ignored:
        claims own them.
    :returns: the pool dicts after the write.
    """
    now = utcnow()
    names = []
    with engine.begin() as conn:
        for p in pools:
            name = pool_name(host, backend, p["pool_name"])
            names.append(name)
            fields = {k: p[k] for k in REPORTED_FIELDS if k in p}
            fields["capabilities"] = {k: v for k, v in p.items()
                                      if k not in _NOT_CAPABILITIES}
            fields["updated_at"] = now
            res = conn.execute(P.update().where(P.c.name == name).values(**fields))
            if res.rowcount == 0:
                row = dict(fields, name=name, host=host, backend=backend,
                           pool=p["pool_name"], created_at=now,
                           allocated_capacity_gb=0.0, provisioned_capacity_gb=0.0,
                           generation=0)
                try:
                    with conn.begin_nested():
                        conn.execute(P.insert(), row)
                except sa_exc.IntegrityError:
                    conn.execute(P.update().where(P.c.name == name).values(**fields))
        rows = conn.execute(sa.select(P).where(P.c.name.in_(names)).order_by(P.c.id))
        return [_dict(r) for r in rows]


@retry_on_db_error
def get_pool(engine, name):
    """The pool dict by ``host@backend#pool`` name, or None."""
    with engine.connect() as conn:
        return _dict(conn.execute(sa.select(P).where(P.c.name == name)).first())


@retry_on_db_error
def list_pools(engine, host=None, backend=None):
    """Pool dicts (optionally of one host, or one ``host``+``backend``),
    for ``/scheduler-stats/get_pools``."""
    q = sa.select(P).order_by(P.c.id)
    if host is not None:
        q = q.where(P.c.host == host)
    if backend is not None:
        q = q.where(P.c.backend == backend)
    with engine.connect() as conn:
        return [_dict(r) for r in conn.execute(q)]


@retry_on_db_error
def get_pool_states(engine):
    """Rows the volume scheduler builds its pool states from.

    Every pool whose backend has a ``controlplane-volume`` service row
    (``host@backend``), with ``service_disabled`` and
    ``service_updated_at`` (the last heartbeat) added.
    """
    svc_host = P.c.host + sa.literal("@") + P.c.backend
    q = (sa.select(P, S.c.disabled.label("service_disabled"),
                   S.c.updated_at.label("service_updated_at"))
         .select_from(P.join(S, sa.and_(S.c.host == svc_host, S.c.binary == VOLUME_BINARY)))
         .order_by(P.c.id))
    with engine.connect() as conn:
        return [_dict(r) for r in conn.execute(q)]


# --- claims ------------------------------------------------------------------

def capacity_condition(size, thin):
    """SQL form of Cinder's CapacityFilter for a request of ``size`` GiB
    (bind parameter or number); ``thin``: the volume type does not ask for
    ``provisioning:type=thick``.

    ``reserved = floor(total * reserved_percentage / 100)``,
    ``free = free_capacity_gb - reserved``; thin (requested thin and the
    pool supports it): ``max_over_subscription_ratio >= 1``,
    ``(provisioned + size) / total <= ratio`` and ``free * ratio >= size``;
    thick: ``free >= size``. ``total`` must be > 0.
    """
    reserved = sa.func.floor(P.c.total_capacity_gb * P.c.reserved_percentage / 100.0)
    free = P.c.free_capacity_gb - reserved
    ratio = P.c.max_over_subscription_ratio
    thick = free >= size
    if not thin:
        return sa.and_(P.c.total_capacity_gb > 0, thick)
    thin_ok = sa.and_(ratio >= 1.0,
                      P.c.provisioned_capacity_gb + size <= P.c.total_capacity_gb * ratio,
                      free * ratio >= size)
    return sa.and_(P.c.total_capacity_gb > 0,
                   sa.case((P.c.thin_provisioning_support.is_(sa.true()), thin_ok),
                           else_=thick))


_CLAIM_UPDATE = {
    thin: P.update().where(P.c.name == sa.bindparam("b_name"),
                           capacity_condition(sa.bindparam("b_size", type_=sa.Integer), thin))
    .values(allocated_capacity_gb=P.c.allocated_capacity_gb + sa.bindparam("b_size"),
            provisioned_capacity_gb=P.c.provisioned_capacity_gb + sa.bindparam("b_size"),
            free_capacity_gb=P.c.free_capacity_gb - sa.bindparam("b_size"),
            generation=P.c.generation + 1)
    for thin in (True, False)}
_CLAIM_INSERT = sa.insert(A).from_select(
    ["volume_id", "pool_id", "size_gb", "created_at"],
    sa.select(sa.bindparam("b_volume_id", type_=sa.String), P.c.id,
              sa.bindparam("b_size", type_=sa.Integer),
              sa.bindparam("b_now", type_=sa.DateTime))
    .where(P.c.name == sa.bindparam("b_name")))
class _Rollback(Exception):
    pass


@retry_on_db_error
def _claim_txn(engine, name, volume_id, size, thin):
    """UPDATE (capacity check) then INSERT of the allocation; the unique
    ``volume_id`` makes a second claim of the same volume fail the INSERT
    (IntegrityError), which rolls the UPDATE back."""
    params = {"b_name": name, "b_volume_id": volume_id, "b_size": size, "b_now": utcnow()}
    try:
        with engine.begin() as conn:
            if conn.execute(_CLAIM_UPDATE[bool(thin)], params).rowcount != 1:
                raise _Rollback()
            conn.execute(_CLAIM_INSERT, params)
    except _Rollback:
        return False
    return True


def claim(engine, name, volume_id, size_gb, thin=True):
    """Atomically take ``size_gb`` GiB for ``volume_id`` on pool ``name``.

    One transaction: the conditional UPDATE of :func:`capacity_condition`
    (consuming like Cinder) and the ``volume_allocations`` row.

    :returns: True when the volume holds an allocation on this pool (also
        when it already did: idempotent); False when the pool lacks
        capacity, does not exist, or the volume is allocated on another
        pool (release it first).
    """
    try:
        ok = _claim_txn(engine, name, volume_id, int(size_gb), thin)
    except sa_exc.IntegrityError:
        held = get_allocation(engine, volume_id)
        if held is not None and held["pool"] == name:
            return True
        LOG.warning("claim of volume %s on %s refused: allocated on %s", volume_id, name,
                    held and held["pool"])
        return False
    if not ok:
        held = get_allocation(engine, volume_id)
        if held is not None and held["pool"] == name:
            return True   # already held here (a full pool refuses the UPDATE)
        LOG.debug("claim of volume %s (%s GiB) on %s failed: no capacity",
                  volume_id, size_gb, name)
    return ok


class _NoCapacity(Exception):
    pass


@retry_on_db_error
def _extend_txn(engine, volume_id, new_size, thin):
    with engine.begin() as conn:
        alloc = conn.execute(sa.select(A).where(A.c.volume_id == volume_id)).first()
        if alloc is None:
            return False
        delta = new_size - alloc.size_gb
        if delta <= 0:
            return True
        # the allocation row first (a CAS on its size), then the pool
        if conn.execute(A.update().where(A.c.id == alloc.id, A.c.size_gb == alloc.size_gb)
                        .values(size_gb=new_size)).rowcount != 1:
            return False
        res = conn.execute(P.update().where(P.c.id == alloc.pool_id,
                                            capacity_condition(delta, thin))
                           .values(allocated_capacity_gb=P.c.allocated_capacity_gb + delta,
                                   provisioned_capacity_gb=P.c.provisioned_capacity_gb + delta,
                                   free_capacity_gb=P.c.free_capacity_gb - delta,
                                   generation=P.c.generation + 1))
        if res.rowcount != 1:
            raise _NoCapacity()   # rolls the allocation change back
    return True


def extend_claim(engine, volume_id, new_size_gb, thin=True):
    """Grow a volume's allocation to ``new_size_gb`` on the pool it holds,
    with the same capacity rule for the difference (Cinder's extend goes
    through the CapacityFilter with ``new_size - size``).

    :returns: True when the allocation is now ``new_size_gb`` (or larger);
        False without capacity or without an allocation.
    """
    try:
        return _extend_txn(engine, volume_id, int(new_size_gb), thin)
    except _NoCapacity:
        return False


@retry_on_db_error
def release(engine, volume_id):
    """Drop a volume's allocation and subtract it from its pool's allocated
    and provisioned capacity (free capacity is left to the next report).

    Idempotent: True when an allocation was removed, False when none existed.
    """
    with engine.begin() as conn:
        alloc = conn.execute(sa.select(A).where(A.c.volume_id == volume_id)).first()
        if alloc is None:
            return False
        if conn.execute(A.delete().where(A.c.id == alloc.id)).rowcount != 1:
            return False
        conn.execute(P.update().where(P.c.id == alloc.pool_id).values(
            allocated_capacity_gb=P.c.allocated_capacity_gb - alloc.size_gb,
            provisioned_capacity_gb=P.c.provisioned_capacity_gb - alloc.size_gb,
            generation=P.c.generation + 1))
    return True


@retry_on_db_error
def get_allocation(engine, volume_id):
    """``{"volume_id", "pool", "size_gb"}`` of the volume's allocation, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(A.c.volume_id, A.c.size_gb, P.c.name.label("pool"))
                           .select_from(A.join(P, P.c.id == A.c.pool_id))
                           .where(A.c.volume_id == volume_id)).first()
    return row_to_dict(row)


@retry_on_db_error
def heal_usage(engine, name):
    """Recompute a pool's allocated/provisioned capacity from its
    allocations (after manual repairs). :returns: the pool dict or None."""
    total = (sa.select(sa.func.coalesce(sa.func.sum(A.c.size_gb), 0))
             .where(A.c.pool_id == P.c.id).scalar_subquery())
    with engine.begin() as conn:
        conn.execute(P.update().where(P.c.name == name).values(
            allocated_capacity_gb=total, provisioned_capacity_gb=total,
            generation=P.c.generation + 1))
    return get_pool(engine, name)


@retry_on_db_error
def delete_pools(engine, host, backend, keep=()):
    """Delete the pools of a backend that are not in ``keep`` (pool names
    without host/backend) and hold no allocation. :returns: names deleted."""
    with engine.begin() as conn:
        rows = conn.execute(sa.select(P.c.id, P.c.name, P.c.pool).where(
            P.c.host == host, P.c.backend == backend)).all()
        gone = []
        for r in rows:
            if r.pool in keep:
                continue
            used = conn.execute(sa.select(A.c.id).where(A.c.pool_id == r.id).limit(1)).first()
            if used is None:
                conn.execute(P.delete().where(P.c.id == r.id))
                gone.append(r.name)
        return gone
