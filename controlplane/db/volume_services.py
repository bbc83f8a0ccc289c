"""The ``volume_services`` table (API database), Cinder's ``services``.

One row per (host, binary). ``controlplane-volume`` registers one row per
backend it serves, host ``hostname@backend`` (Cinder's layout, shown by
``openstack volume service list``); ``controlplane-volume-scheduler`` one
row with the plain host name. Heartbeats set ``updated_at`` and bump
``report_count``; a service is up when its last heartbeat is at most
``[DEFAULT] service_down_time`` seconds old (Cinder's
``service.is_up``). Times are naive UTC.
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.conf import CONF
from controlplane.db.engine import retry_on_db_error, row_to_dict
from controlplane.db.models_volume import VolumeService
from controlplane.db.services import utcnow

LOG = logging.getLogger(__name__)

VOLUME_BINARY = "controlplane-volume"
SCHEDULER_BINARY = "controlplane-volume-scheduler"

_t = VolumeService.__table__


class VolumeServiceNotFound(exception.NotFound):
    msg_fmt = "Service %(service)s could not be found."


def is_up(service, now=None):
    """True when the last heartbeat (``updated_at``, else ``created_at``)
    is at most ``[DEFAULT] service_down_time`` seconds old."""
    last = service.get("updated_at") or service.get("created_at")
    if last is None:
        return False
    now = now or utcnow()
    return abs((now - last).total_seconds()) <= CONF.service_down_time


def _out(row):
    d = row_to_dict(row)
    if d is not None:
        d["up"] = is_up(d)
    return d


def _one(conn, host, binary):
    return conn.execute(sa.select(_t).where(_t.c.host == host, _t.c.binary == binary)).first()


@retry_on_db_error
def create_or_get_service(engine, host, binary, topic=None, availability_zone=None):
    """Register (host, binary) and return its row dict (with ``up``).

    Idempotent: a restart keeps the row (``disabled`` flags kept; ``topic``
    and ``availability_zone`` updated, ``updated_at`` set: the first
    heartbeat). Two processes racing on the insert end with one row.
    """
    now = utcnow()
    with engine.begin() as conn:
        row = _one(conn, host, binary)
        if row is not None:
            conn.execute(_t.update().where(_t.c.id == row.id).values(
                topic=topic if topic is not None else row.topic,
                availability_zone=(availability_zone if availability_zone is not None
                                   else row.availability_zone),
                updated_at=now))
            return _out(_one(conn, host, binary))
    try:
        with engine.begin() as conn:
            conn.execute(_t.insert(), {"host": host, "binary": binary, "topic": topic,
                                       "availability_zone": availability_zone,
                                       "disabled": False, "report_count": 0,
                                       "created_at": now, "updated_at": now})
    except sa_exc.IntegrityError:
        LOG.debug("volume service %s on %s registered concurrently", binary, host)
    with engine.connect() as conn:
        return _out(_one(conn, host, binary))


@retry_on_db_error
def heartbeat(engine, hosts, binary=VOLUME_BINARY):
    """Heartbeat of one or several services of ``binary`` (one UPDATE).

    :param hosts: a host or a list of hosts (``hostname@backend``).
    :returns: the hosts whose row exists (a deleted row is missing: the
        caller registers it again).
    """
    hosts = [hosts] if isinstance(hosts, str) else list(hosts)
    if not hosts:
        return []
    with engine.begin() as conn:
        conn.execute(_t.update().where(_t.c.host.in_(hosts), _t.c.binary == binary)
                     .values(updated_at=utcnow(), report_count=_t.c.report_count + 1))
        return [r.host for r in conn.execute(sa.select(_t.c.host).where(
            _t.c.host.in_(hosts), _t.c.binary == binary))]


@retry_on_db_error
def list_services(engine, binary=None, host=None):
    """Service dicts (each with ``up``) ordered by id; ``host`` matches
    exactly or, for a plain host name, also its ``host@backend`` rows."""
    q = sa.select(_t).order_by(_t.c.id)
    if binary is not None:
        q = q.where(_t.c.binary == binary)
    if host is not None:
        q = q.where(sa.or_(_t.c.host == host, _t.c.host.like(host + "@%")))
    with engine.connect() as conn:
        return [_out(r) for r in conn.execute(q)]


@retry_on_db_error
def get_service(engine, host, binary):
    """The row dict of (host, binary); raises VolumeServiceNotFound."""
    with engine.connect() as conn:
        row = _one(conn, host, binary)
    if row is None:
        raise VolumeServiceNotFound(service="%s %s" % (binary, host))
    return _out(row)


@retry_on_db_error
def set_disabled(engine, host, binary, disabled, disabled_reason=None):
    """Enable or disable a service (``os-services/enable|disable``).

    :returns: the row dict; raises VolumeServiceNotFound.
    """
    with engine.begin() as conn:
        res = conn.execute(_t.update().where(_t.c.host == host, _t.c.binary == binary)
                           .values(disabled=bool(disabled),
                                   disabled_reason=disabled_reason if disabled else None))
        if res.rowcount == 0 and _one(conn, host, binary) is None:
            raise VolumeServiceNotFound(service="%s %s" % (binary, host))
        return _out(_one(conn, host, binary))


@retry_on_db_error
def delete_service(engine, host, binary):
    """Delete the row; raises VolumeServiceNotFound."""
    with engine.begin() as conn:
        res = conn.execute(_t.delete().where(_t.c.host == host, _t.c.binary == binary))
    if res.rowcount == 0:
        raise VolumeServiceNotFound(service="%s %s" % (binary, host))
