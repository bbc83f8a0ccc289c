"""Quota limits and usage counts in the API database (Nova's count model).

Limits live in ``quotas`` (per project) and ``quota_classes`` (class
``default``); usage is counted, never reserved: instances, cores and ram
are sums over ``instance_mappings`` not ``queued_for_delete``; key pairs
per user in ``key_pairs``; server groups per project in
``instance_groups``.

:func:`create_instances_within_quota` is the serialisation point of server
creation: one transaction bumps ``project_quota_generations`` for the
project (concurrent creates of the project queue on that row, and Galera
certification rejects one of two writers on different nodes), inserts the
instance mappings, build requests and request specs, counts, and rolls
everything back with :class:`QuotaOverLimit` when over a limit.
"""
import logging

import sqlalchemy as sa
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from controlplane.db import build_requests as db_build_requests
from controlplane.db import engine as db_engine
from controlplane.db.engine import retry_on_db_error
from controlplane.db.models_api import (InstanceGroup, InstanceMapping, KeyPair,
                                        ProjectQuotaGeneration, Quota, QuotaClass)

LOG = logging.getLogger(__name__)

_q = Quota.__table__
_qc = QuotaClass.__table__
_gen = ProjectQuotaGeneration.__table__
_im = InstanceMapping.__table__
_kp = KeyPair.__table__
_ig = InstanceGroup.__table__


class QuotaOverLimit(Exception):
    """A create would exceed a limit.

    :ivar overs: list of ``{"resource", "requested", "used", "limit"}``,
        one per resource over its limit (Nova's OverQuota ``overs``).
    """

    def __init__(self, overs):
        self.overs = overs
        first = overs[0]
        super().__init__(
            "Quota exceeded for %s: Requested %d, but already used %d of %d %s" % (
                first["resource"], first["requested"], first["used"], first["limit"],
                first["resource"]))


def _upsert(conn, table, values, update):
    """INSERT ... ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT (SQLite)."""
    name = conn.dialect.name
    if name == "mysql":
        stmt = mysql_dialect.insert(table).values(**values)
        stmt = stmt.on_duplicate_key_update(**{k: (v(stmt.inserted) if callable(v) else v)
                                               for k, v in update.items()})
    elif name == "sqlite":
        stmt = sqlite_dialect.insert(table).values(**values)
        keys = [c.name for c in table.primary_key.columns] if table is _gen else None
        if keys is None:
            uniq = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
            keys = [c.name for c in uniq[0].columns]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={k: (v(stmt.excluded) if callable(v) else v) for k, v in update.items()})
    else:  # pragma: no cover - other databases are not supported
        raise NotImplementedError("upsert on %s" % name)
    conn.execute(stmt)


# --- limits --------------------------------------------------------------

@retry_on_db_error
def get_project_quotas(project_id):
    """Per-project limits set by an admin: ``{resource: hard_limit}``."""
    with db_engine.api_engine().connect() as conn:
        rows = conn.execute(sa.select(_q.c.resource, _q.c.hard_limit)
                            .where(_q.c.project_id == project_id)).all()
    return {r.resource: r.hard_limit for r in rows}


@retry_on_db_error
def get_class_quotas(class_name="default"):
    """Limits of a quota class: ``{resource: hard_limit}``."""
    with db_engine.api_engine().connect() as conn:
        rows = conn.execute(sa.select(_qc.c.resource, _qc.c.hard_limit)
                            .where(_qc.c.class_name == class_name)).all()
    return {r.resource: r.hard_limit for r in rows}


@retry_on_db_error
def get_class_and_project_quotas(class_name, project_id):
    """:func:`get_class_quotas` and :func:`get_project_quotas` in one
    statement (``UNION ALL``): ``({resource: limit}, {resource: limit})``."""
    q = sa.union_all(
        sa.select(sa.literal("c").label("kind"), _qc.c.resource, _qc.c.hard_limit)
        .where(_qc.c.class_name == class_name),
        sa.select(sa.literal("p").label("kind"), _q.c.resource, _q.c.hard_limit)
        .where(_q.c.project_id == project_id))
    out = {"c": {}, "p": {}}
    with db_engine.api_engine().connect() as conn:
        for kind, resource, limit in conn.execute(q):
            out[kind][resource] = limit
    return out["c"], out["p"]


@retry_on_db_error
def set_project_quotas(project_id, limits):
    """Create or update per-project limits in one transaction.

    :param limits: ``{resource: hard_limit}`` (-1 unlimited).
    """
    with db_engine.api_engine().begin() as conn:
        for resource, limit in limits.items():
            _upsert(conn, _q, {"project_id": project_id, "resource": resource,
                               "hard_limit": int(limit)},
                    {"hard_limit": lambda ins: ins.hard_limit})


@retry_on_db_error
def delete_project_quotas(project_id):
    """Drop every per-project limit (the project falls back to the defaults).

    :returns: number of rows deleted.
    """
    with db_engine.api_engine().begin() as conn:
        return conn.execute(_q.delete().where(_q.c.project_id == project_id)).rowcount


@retry_on_db_error
def set_class_quotas(class_name, limits):
    """Create or update the limits of a quota class in one transaction."""
    with db_engine.api_engine().begin() as conn:
        for resource, limit in limits.items():
            _upsert(conn, _qc, {"class_name": class_name, "resource": resource,
                                "hard_limit": int(limit)},
                    {"hard_limit": lambda ins: ins.hard_limit})


# --- usage ---------------------------------------------------------------

_COUNT_INSTANCES = (
    sa.select(sa.func.count(_im.c.id), sa.func.coalesce(sa.func.sum(_im.c.vcpus), 0),
              sa.func.coalesce(sa.func.sum(_im.c.memory_mb), 0))
    .where(_im.c.project_id == sa.bindparam("b_project_id"),
           _im.c.queued_for_delete.is_(sa.false())))
_COUNT_USER_INSTANCES = _COUNT_INSTANCES.where(_im.c.user_id == sa.bindparam("b_user_id"))
_IM_INSERT = _im.insert()


_MAPPING_EXISTS = sa.select(_im.c.id).where(
    _im.c.instance_uuid == sa.bindparam("b_uuid"))


def _mapping_exists(conn, instance_uuid):
    return conn.execute(_MAPPING_EXISTS, {"b_uuid": instance_uuid}).first() is not None


def _count_instances(conn, project_id, user_id=None):
    if user_id is None:
        q, params = _COUNT_INSTANCES, {"b_project_id": project_id}
    else:
        q, params = _COUNT_USER_INSTANCES, {"b_project_id": project_id, "b_user_id": user_id}
    n, cores, ram = conn.execute(q, params).one()
    return {"instances": int(n), "cores": int(cores), "ram": int(ram)}


@retry_on_db_error
def count_instances(project_id, user_id=None):
    """``{"instances", "cores", "ram"}`` used by a project (ram in MiB),
    optionally only the servers of ``user_id``."""
    with db_engine.api_engine().connect() as conn:
        return _count_instances(conn, project_id, user_id)


@retry_on_db_error
def count_key_pairs(user_id):
    """Key pairs owned by a user."""
    with db_engine.api_engine().connect() as conn:
        return int(conn.execute(sa.select(sa.func.count(_kp.c.id))
                                .where(_kp.c.user_id == user_id)).scalar())


@retry_on_db_error
def count_server_groups(project_id, user_id=None):
    """Server groups of a project (optionally of one user)."""
    q = sa.select(sa.func.count(_ig.c.id)).where(_ig.c.project_id == project_id)
    if user_id is not None:
        q = q.where(_ig.c.user_id == user_id)
    with db_engine.api_engine().connect() as conn:
        return int(conn.execute(q).scalar())


def count_usage(project_id, user_id=None):
    """Every counted resource of a project: ``{"instances", "cores", "ram",
    "server_groups", "key_pairs"}`` (key pairs of ``user_id``, 0 without)."""
    usage = count_instances(project_id)
    usage["server_groups"] = count_server_groups(project_id)
    usage["key_pairs"] = count_key_pairs(user_id) if user_id else 0
    return usage


# --- check and create ----------------------------------------------------

def bump_project_generation(conn, project_id):
    """Insert or increment the project's ``project_quota_generations`` row
    inside the caller's transaction ``conn``: the serialisation point of a
    quota check-and-create of that project (concurrent creates queue on the
    row lock; on Galera one of two writers on different nodes fails
    certification and is retried). See docs/architecture.md, Quota."""
    _upsert(conn, _gen, {"project_id": project_id, "generation": 1},
            {"generation": _gen.c.generation + 1})


def _overs(usage, requested, limits):
    out = []
    for resource in ("instances", "cores", "ram"):
        limit = limits.get(resource, -1)
        if limit is None or limit < 0:
            continue
        if usage[resource] + requested[resource] > limit:
            out.append({"resource": resource, "requested": requested[resource],
                        "used": usage[resource], "limit": limit})
    return out


@retry_on_db_error
def create_instances_within_quota(project_id, user_id, instances, limits):
    """Check quota and create the servers' API records in one transaction.

    :param instances: list of dicts ``{"instance_uuid", "vcpus", "memory_mb",
        "build_request": dict | None, "request_spec": dict | None}``; one
        ``instance_mappings`` row (cell_id NULL) each, plus the build
        request (JSON of the instance dict) and request spec when given.
        The uuids are chosen by the caller, once: when the first one's
        mapping exists already, an earlier attempt of this create committed
        (its answer lost with the Galera writer) and nothing is inserted
        again.
    :param limits: ``{"instances", "cores", "ram"}`` (-1 unlimited).
    :raises QuotaOverLimit: the project would go over a limit; nothing was
        written.
    :returns: ``{"instances", "cores", "ram"}`` usage after the create.
    """
    requested = {"instances": len(instances),
                 "cores": sum(int(i["vcpus"]) for i in instances),
                 "ram": sum(int(i["memory_mb"]) for i in instances)}
    engine = db_engine.api_engine()
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            if instances and _mapping_exists(conn, instances[0]["instance_uuid"]):
                after = _count_instances(conn, project_id)
                trans.commit()
                LOG.info("create of %s had committed before its retry; not repeated",
                         [i["instance_uuid"] for i in instances])
                return after
            # serialisation point: every create of this project queues here
            bump_project_generation(conn, project_id)
            for inst in instances:
                conn.execute(_IM_INSERT, {
                    "instance_uuid": inst["instance_uuid"], "cell_id": None,
                    "project_id": project_id, "user_id": user_id,
                    "queued_for_delete": False, "vcpus": int(inst["vcpus"]),
                    "memory_mb": int(inst["memory_mb"])})
                if inst.get("build_request") is not None:
                    db_build_requests.create_build_request_in(
                        conn, inst["instance_uuid"], project_id, inst["build_request"])
                if inst.get("request_spec") is not None:
                    db_build_requests.create_request_spec_in(
                        conn, inst["instance_uuid"], inst["request_spec"])
            # One count after the inserts: with the generation row held no
            # other create of the project runs, so usage before = after -
            # requested; over a limit, the rollback undoes the inserts.
            after = _count_instances(conn, project_id)
            used_before = {k: after[k] - requested[k] for k in after}
            overs = _overs(used_before, requested, limits)
            if overs:
                raise QuotaOverLimit(overs)
            trans.commit()
        except BaseException:
            trans.rollback()
            raise
    LOG.debug("project %s now uses %s", project_id, after)
    return after
