"""Host aggregates and availability zones (API database).

Follows Nova's os-aggregates semantics: an aggregate has a unique name, a set
of hosts and key/value metadata; its availability zone is the metadata key
``availability_zone``. A host in no aggregate with that key is in
``CONF.default_availability_zone``. Functions use ``[api_database]
connection`` (no engine argument) and return plain dicts of the form::

    {"id": int, "uuid": str, "name": str, "availability_zone": str | None,
     "hosts": [str], "metadata": {str: str},
     "created_at": datetime, "updated_at": datetime | None}

Errors (controlplane.exception): ``AggregateNotFound`` (404),
``AggregateNameExists`` (409), ``AggregateHostExists`` (409),
``AggregateHostNotFound`` (404), ``AggregateNotEmpty`` (400, delete of an
aggregate that still has hosts, as Nova), ``AvailabilityZoneConflict`` (409,
a host would end up in two different zones, as Nova).
"""
import logging

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from controlplane import exception
from controlplane.conf import CONF
from controlplane.db import engine as db_engine
from controlplane.db import models_api as m
from controlplane.db.engine import new_uuid, retry_on_db_error

LOG = logging.getLogger(__name__)

AZ_KEY = "availability_zone"
AGG = m.Aggregate.__table__
AHOST = m.AggregateHost.__table__
AMETA = m.AggregateMetadata.__table__


def _engine():
    return db_engine.api_engine()


def _find(conn, aggregate_id):
    """Row of an aggregate by integer id or uuid; raises AggregateNotFound."""
    col = AGG.c.uuid if isinstance(aggregate_id, str) and not aggregate_id.isdigit() else AGG.c.id
    key = aggregate_id if col is AGG.c.uuid else int(aggregate_id)
    row = conn.execute(sa.select(AGG).where(col == key)).first()
    if row is None:
        raise exception.AggregateNotFound(aggregate_id=aggregate_id)
    return row


def _load(conn, row):
    hosts = sorted(conn.execute(sa.select(AHOST.c.host).where(
        AHOST.c.aggregate_id == row.id)).scalars())
    meta = {r.key: r.value for r in conn.execute(
        sa.select(AMETA.c.key, AMETA.c.value).where(AMETA.c.aggregate_id == row.id))}
    return {"id": row.id, "uuid": row.uuid, "name": row.name,
            "availability_zone": meta.get(AZ_KEY), "hosts": hosts, "metadata": meta,
            "created_at": row.created_at, "updated_at": row.updated_at}


_HOST_ZONES = (sa.select(AMETA.c.value)
               .select_from(AHOST.join(AMETA, AMETA.c.aggregate_id == AHOST.c.aggregate_id))
               .where(AHOST.c.host == sa.bindparam("b_host"), AMETA.c.key == AZ_KEY))


def _host_zones(conn, host, exclude_aggregate_id=None):
    """Zones the host is in through aggregates other than ``exclude_aggregate_id``."""
    if exclude_aggregate_id is None:   # the conductor asks this for every build
        return set(conn.execute(_HOST_ZONES, {"b_host": host}).scalars())
    q = _HOST_ZONES.where(AHOST.c.aggregate_id != exclude_aggregate_id)
    return set(conn.execute(q, {"b_host": host}).scalars())


def _check_az_change(conn, agg_id, new_az):
    """A new zone for an aggregate must not put one of its hosts in two zones."""
    if new_az is None:
        return
    for host in conn.execute(sa.select(AHOST.c.host).where(AHOST.c.aggregate_id == agg_id)).scalars():
        other = _host_zones(conn, host, exclude_aggregate_id=agg_id) - {new_az}
        if other:
            raise exception.AvailabilityZoneConflict(
                host=host, existing=",".join(sorted(other)), requested=new_az)


def _set_meta(conn, agg_id, updates):
    for key, value in updates.items():
        conn.execute(sa.delete(AMETA).where(AMETA.c.aggregate_id == agg_id, AMETA.c.key == key))
        if value is not None:
            conn.execute(sa.insert(AMETA).values(aggregate_id=agg_id, key=key, value=str(value)))


@retry_on_db_error
def create_aggregate(name, availability_zone=None, metadata=None):
    """Create an aggregate; ``availability_zone`` becomes its metadata key.

    :raises AggregateNameExists: the name is taken.
    :returns: the aggregate dict.
    """
    meta = dict(metadata or {})
    if availability_zone is not None:
        meta[AZ_KEY] = availability_zone
    try:
        with _engine().begin() as conn:
            res = conn.execute(sa.insert(AGG).values(uuid=new_uuid(), name=name))
            agg_id = res.inserted_primary_key[0]
            _set_meta(conn, agg_id, {k: v for k, v in meta.items() if v is not None})
            return _load(conn, _find(conn, agg_id))
    except sa_exc.IntegrityError as e:
        if "Duplicate" in str(e.orig) or "UNIQUE" in str(e.orig):
            raise exception.AggregateNameExists(aggregate_name=name) from None
        raise


@retry_on_db_error
def get_aggregate(aggregate_id):
    """Aggregate by integer id or uuid; raises AggregateNotFound."""
    with _engine().connect() as conn:
        return _load(conn, _find(conn, aggregate_id))


@retry_on_db_error
def get_aggregate_by_uuid(uuid):
    """Aggregate by uuid; raises AggregateNotFound."""
    with _engine().connect() as conn:
        row = conn.execute(sa.select(AGG).where(AGG.c.uuid == uuid)).first()
        if row is None:
            raise exception.AggregateNotFound(aggregate_id=uuid)
        return _load(conn, row)


@retry_on_db_error
def list_aggregates():
    """Every aggregate (ordered by id) with hosts and metadata; 3 queries in all."""
    with _engine().connect() as conn:
        rows = conn.execute(sa.select(AGG).order_by(AGG.c.id)).all()
        hosts, meta = {}, {}
        for r in conn.execute(sa.select(AHOST.c.aggregate_id, AHOST.c.host)):
            hosts.setdefault(r.aggregate_id, []).append(r.host)
        for r in conn.execute(sa.select(AMETA.c.aggregate_id, AMETA.c.key, AMETA.c.value)):
            meta.setdefault(r.aggregate_id, {})[r.key] = r.value
    out = []
    for r in rows:
        md = meta.get(r.id, {})
        out.append({"id": r.id, "uuid": r.uuid, "name": r.name,
                    "availability_zone": md.get(AZ_KEY),
                    "hosts": sorted(hosts.get(r.id, [])), "metadata": md,
                    "created_at": r.created_at, "updated_at": r.updated_at})
    return out


_UNSET = object()


@retry_on_db_error
def update_aggregate(aggregate_id, name=None, availability_zone=_UNSET):
    """Rename an aggregate and/or set its zone (None removes the zone).

    :raises AggregateNotFound, AggregateNameExists, AvailabilityZoneConflict.
    """
    try:
        with _engine().begin() as conn:
            row = _find(conn, aggregate_id)
            if name is not None and name != row.name:
                conn.execute(sa.update(AGG).where(AGG.c.id == row.id).values(name=name))
            if availability_zone is not _UNSET:
                _check_az_change(conn, row.id, availability_zone)
                _set_meta(conn, row.id, {AZ_KEY: availability_zone})
            return _load(conn, _find(conn, row.id))
    except sa_exc.IntegrityError as e:
        if "Duplicate" in str(e.orig) or "UNIQUE" in str(e.orig):
            raise exception.AggregateNameExists(aggregate_name=name) from None
        raise


@retry_on_db_error
def delete_aggregate(aggregate_id):
    """Delete an aggregate that has no hosts (metadata goes with it).

    :raises AggregateNotFound; AggregateNotEmpty when hosts remain (Nova's 400).
    """
    with _engine().begin() as conn:
        row = _find(conn, aggregate_id)
        n = conn.execute(sa.select(sa.func.count()).select_from(AHOST)
                         .where(AHOST.c.aggregate_id == row.id)).scalar_one()
        if n:
            raise exception.AggregateNotEmpty(aggregate_id=aggregate_id)
        conn.execute(sa.delete(AMETA).where(AMETA.c.aggregate_id == row.id))
        conn.execute(sa.delete(AGG).where(AGG.c.id == row.id))


@retry_on_db_error
def add_host(aggregate_id, host):
    """Add a host (the API checks that the host exists via host_mappings).

    :raises AggregateNotFound; AggregateHostExists (already a member);
        AvailabilityZoneConflict (the aggregate has a zone and the host is
        already in another one through a different aggregate).
    :returns: the aggregate dict.
    """
    try:
        with _engine().begin() as conn:
            row = _find(conn, aggregate_id)
            az = conn.execute(sa.select(AMETA.c.value).where(
                AMETA.c.aggregate_id == row.id, AMETA.c.key == AZ_KEY)).scalar()
            if az is not None:
                other = _host_zones(conn, host, exclude_aggregate_id=row.id) - {az}
                if other:
                    raise exception.AvailabilityZoneConflict(
                        host=host, existing=",".join(sorted(other)), requested=az)
            conn.execute(sa.insert(AHOST).values(aggregate_id=row.id, host=host))
            return _load(conn, row)
    except sa_exc.IntegrityError:
        raise exception.AggregateHostExists(aggregate_id=aggregate_id, host=host) from None


@retry_on_db_error
def remove_host(aggregate_id, host):
    """Remove a host; raises AggregateNotFound / AggregateHostNotFound."""
    with _engine().begin() as conn:
        row = _find(conn, aggregate_id)
        res = conn.execute(sa.delete(AHOST).where(AHOST.c.aggregate_id == row.id,
                                                  AHOST.c.host == host))
        if res.rowcount == 0:
            raise exception.AggregateHostNotFound(aggregate_id=aggregate_id, host=host)
        return _load(conn, row)


@retry_on_db_error
def set_metadata(aggregate_id, metadata):
    """Merge ``metadata`` into the aggregate's; a value of None deletes the key.

    ``availability_zone`` is ordinary metadata here (as in Nova's
    set_metadata action) but is checked for zone conflicts of member hosts.
    :raises AggregateNotFound, AvailabilityZoneConflict.
    """
    with _engine().begin() as conn:
        row = _find(conn, aggregate_id)
        if AZ_KEY in metadata:
            _check_az_change(conn, row.id, metadata[AZ_KEY])
        _set_meta(conn, row.id, metadata)
        return _load(conn, row)


@retry_on_db_error
def host_aggregates_map():
    """``{host: [{"id", "uuid", "name", "metadata": {k: v}}]}`` for every host
    in at least one aggregate (what the scheduler's HostStates need); 3 queries."""
    with _engine().connect() as conn:
        aggs = {r.id: {"id": r.id, "uuid": r.uuid, "name": r.name, "metadata": {}}
                for r in conn.execute(sa.select(AGG.c.id, AGG.c.uuid, AGG.c.name))}
        for r in conn.execute(sa.select(AMETA.c.aggregate_id, AMETA.c.key, AMETA.c.value)):
            if r.aggregate_id in aggs:
                aggs[r.aggregate_id]["metadata"][r.key] = r.value
        out = {}
        for r in conn.execute(sa.select(AHOST.c.host, AHOST.c.aggregate_id)
                              .order_by(AHOST.c.aggregate_id)):
            if r.aggregate_id in aggs:
                out.setdefault(r.host, []).append(aggs[r.aggregate_id])
    return out


@retry_on_db_error
def get_host_az(host):
    """The availability zone of a host: its aggregates' zone(s), comma-joined
    and sorted if several, else ``CONF.default_availability_zone``."""
    with _engine().connect() as conn:
        zones = _host_zones(conn, host)
    return ",".join(sorted(zones)) if zones else CONF.default_availability_zone


@retry_on_db_error
def list_availability_zones():
    """``{zone: [hosts]}`` for zones defined by aggregates (hosts sorted).

    Hosts in no zone aggregate are not listed: the API adds them under
    ``CONF.default_availability_zone`` from its list of compute services.
    """
    q = (sa.select(AMETA.c.value, AHOST.c.host)
         .select_from(AMETA.join(AHOST, AHOST.c.aggregate_id == AMETA.c.aggregate_id,
                                 isouter=True))
         .where(AMETA.c.key == AZ_KEY))
    out = {}
    with _engine().connect() as conn:
        for zone, host in conn.execute(q):
            hosts = out.setdefault(zone, [])
            if host is not None and host not in hosts:
                hosts.append(host)
    return {z: sorted(h) for z, h in out.items()}


# --- added by the API resources engineer (os-aggregates PUT) ----------------

@retry_on_db_error
def touch_aggregate(aggregate_id):
    """Set ``updated_at`` to now (a zone-only change does not touch the
    aggregate row itself) and return the aggregate dict.

    :raises AggregateNotFound.
    """
    with _engine().begin() as conn:
        row = _find(conn, aggregate_id)
        conn.execute(sa.update(AGG).where(AGG.c.id == row.id).values(updated_at=sa.func.now()))
        return _load(conn, _find(conn, row.id))
