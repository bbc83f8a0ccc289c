"""The ``services`` table of a cell database (Nova's ``nova.objects.Service``).

One row per (host, binary): ``controlplane-compute`` rows live in the cell
the host belongs to; ``controlplane-conductor`` and
``controlplane-scheduler`` are recorded in the cell database their host is
configured with (``[database] connection``) so that ``openstack compute
service list`` shows them, as Nova's API does.

Liveness follows Nova's DB servicegroup driver: a service is up when it is
not ``forced_down`` and its ``last_seen_up`` heartbeat is at most
``[DEFAULT] service_down_time`` seconds old.

All times are naive UTC datetimes.
"""
import datetime
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.conf import CONF
from controlplane.db.engine import new_uuid, retry_on_db_error, row_to_dict
from controlplane.db.models_cell import Service

LOG = logging.getLogger(__name__)

COMPUTE_BINARY = "controlplane-compute"
CONDUCTOR_BINARY = "controlplane-conductor"
SCHEDULER_BINARY = "controlplane-scheduler"

_t = Service.__table__

#: Columns :func:`update_service` may change (os-services PUT).
UPDATABLE = {"disabled", "disabled_reason", "forced_down", "topic", "version"}


class ServiceNotFound(exception.NotFound):
    """No service with that id/uuid (HTTP 404 in os-services)."""
    msg_fmt = "Service %(service_id)s could not be found."

    def __init__(self, service_id=None, **kwargs):
        super().__init__(service_id=service_id, **kwargs)


def utcnow():
    """Current UTC time as a naive datetime (the DB stores naive UTC)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _select_one(conn, where):
    return row_to_dict(conn.execute(sa.select(_t).where(where)).first())


@retry_on_db_error
def create_or_get_service(engine, host, binary, topic=None):
    """Register the service (host, binary) and return its row as a dict.

    Idempotent: a second start of the same service returns the existing
    row (its ``uuid`` and ``disabled`` flags are kept, ``topic`` updated).
    Two processes racing on the insert both end with the same row.
    """
    with engine.begin() as conn:
        row = _select_one(conn, sa.and_(_t.c.host == host, _t.c.binary == binary))
        if row is not None:
            if topic is not None and row["topic"] != topic:
                conn.execute(_t.update().where(_t.c.id == row["id"]).values(topic=topic))
                row["topic"] = topic
            return row
    try:
        with engine.begin() as conn:
            conn.execute(_t.insert().values(uuid=new_uuid(), host=host, binary=binary,
                                            topic=topic, report_count=0, disabled=False,
                                            forced_down=False, last_seen_up=utcnow(),
                                            version=1))
    except sa_exc.IntegrityError:
        LOG.debug("service %s on %s registered concurrently", binary, host)
    with engine.connect() as conn:
        return _select_one(conn, sa.and_(_t.c.host == host, _t.c.binary == binary))


@retry_on_db_error
def heartbeat(engine, id_or_uuid):
    """Record that the service is alive: ``last_seen_up = now``,
    ``report_count += 1``. Returns the updated row; raises ServiceNotFound
    when the row was deleted (``openstack compute service delete``)."""
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(_where_id(id_or_uuid)).values(
            last_seen_up=utcnow(), report_count=_t.c.report_count + 1))
        if res.rowcount == 0:
            raise ServiceNotFound(id_or_uuid)
        return _select_one(conn, _where_id(id_or_uuid))


@retry_on_db_error
def heartbeat_many(engine, uuids):
    """:func:`heartbeat` of several services (the hosts of one compute
    process) in one transaction: one ``UPDATE ... WHERE uuid IN`` and one
    ``SELECT``.

    :param uuids: service uuids.
    :returns: ``{uuid: updated row}``; a uuid whose row was deleted is
        missing from it (the caller registers that host again).
    """
    uuids = list(uuids)
    if not uuids:
        return {}
    with engine.begin() as conn:
        conn.execute(_t.update().where(_t.c.uuid.in_(uuids)).values(
            last_seen_up=utcnow(), report_count=_t.c.report_count + 1))
        rows = conn.execute(sa.select(_t).where(_t.c.uuid.in_(uuids)))
        return {r.uuid: row_to_dict(r) for r in rows}


def _where_id(id_or_uuid):
    if isinstance(id_or_uuid, int) or (isinstance(id_or_uuid, str) and id_or_uuid.isdigit()):
        return _t.c.id == int(id_or_uuid)
    return _t.c.uuid == id_or_uuid


@retry_on_db_error
def list_services(engine, binary=None, host=None, hosts=None):
    """Rows of ``services`` (dicts) ordered by id, optionally filtered by
    ``binary`` and/or ``host`` (or any of the list ``hosts``); each dict
    gets ``"up"`` (see :func:`is_up`)."""
    query = sa.select(_t).order_by(_t.c.id)
    if binary is not None:
        query = query.where(_t.c.binary == binary)
    if host is not None:
        query = query.where(_t.c.host == host)
    if hosts is not None:
        query = query.where(_t.c.host.in_(list(hosts)))
    with engine.connect() as conn:
        rows = [row_to_dict(r) for r in conn.execute(query)]
    for row in rows:
        row["up"] = is_up(row)
    return rows


@retry_on_db_error
def get_service(engine, id_or_uuid):
    """One service row by integer id or uuid; raises ServiceNotFound."""
    with engine.connect() as conn:
        row = _select_one(conn, _where_id(id_or_uuid))
    if row is None:
        raise ServiceNotFound(id_or_uuid)
    row["up"] = is_up(row)
    return row


@retry_on_db_error
def get_service_by_host_binary(engine, host, binary):
    """The row of (host, binary) or None."""
    with engine.connect() as conn:
        row = _select_one(conn, sa.and_(_t.c.host == host, _t.c.binary == binary))
    if row is not None:
        row["up"] = is_up(row)
    return row


@retry_on_db_error
def update_service(engine, id_or_uuid, values):
    """Change ``disabled``, ``disabled_reason``, ``forced_down`` (and
    ``topic``/``version``); other keys raise ValueError. Returns the row;
    raises ServiceNotFound."""
    bad = set(values) - UPDATABLE
    if bad:
        raise ValueError("cannot update service fields: %s" % ", ".join(sorted(bad)))
    with engine.begin() as conn:
        if values:
            res = conn.execute(_t.update().where(_where_id(id_or_uuid)).values(**values))
            if res.rowcount == 0 and _select_one(conn, _where_id(id_or_uuid)) is None:
                raise ServiceNotFound(id_or_uuid)
        row = _select_one(conn, _where_id(id_or_uuid))
    if row is None:
        raise ServiceNotFound(id_or_uuid)
    row["up"] = is_up(row)
    return row


@retry_on_db_error
def delete_service(engine, id_or_uuid):
    """Delete the row; raises ServiceNotFound when there is none."""
    with engine.begin() as conn:
        res = conn.execute(_t.delete().where(_where_id(id_or_uuid)))
    if res.rowcount == 0:
        raise ServiceNotFound(id_or_uuid)


def is_up(service, now=None):
    """True when the service counts as alive.

    ``forced_down`` wins (Nova's os-services force-down); otherwise the
    last heartbeat (``last_seen_up``, else ``updated_at``/``created_at``)
    must be at most ``[DEFAULT] service_down_time`` seconds old.
    """
    if service.get("forced_down"):
        return False
    last = service.get("last_seen_up") or service.get("updated_at") or service.get("created_at")
    if last is None:
        return False
    now = now or utcnow()
    return abs((now - last).total_seconds()) <= CONF.service_down_time
