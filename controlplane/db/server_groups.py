"""Server groups (Nova's instance groups) in the API database.

A group belongs to a project, has exactly one policy (``affinity``,
``anti-affinity``, ``soft-affinity``, ``soft-anti-affinity``; the API
before 2.64 shows it as the one-element list ``policies``) and a list of
member instance uuids. The scheduler's ServerGroup(Anti)AffinityFilter
reads :func:`get_group` and :func:`get_group_hosts`.

Group dicts::

    {"id": int, "uuid": str, "name": str, "user_id": str, "project_id": str,
     "policy": str, "policies": [str], "rules": {}, "members": [str],
     "created_at": datetime, "updated_at": datetime | None}

Errors (controlplane.exception): ``InstanceGroupNotFound`` (404),
``OverQuota`` (403: ``server_groups`` per project, ``server_group_members``
per group).
"""
import json
import logging

import sqlalchemy as sa

from controlplane import exception
from controlplane.db import engine as db_engine
from controlplane.db import models_api as m
from controlplane.db import models_cell as mc
from controlplane.db.engine import new_uuid, retry_on_db_error
from controlplane.db.quotas import bump_project_generation

LOG = logging.getLogger(__name__)

GRP = m.InstanceGroup.__table__
POL = m.InstanceGroupPolicy.__table__
MEM = m.InstanceGroupMember.__table__
IMAP = m.InstanceMapping.__table__
CELLS = m.CellMapping.__table__
INST = mc.Instance.__table__

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def _engine():
    return db_engine.api_engine()


def _load_many(conn, rows):
    ids = [r.id for r in rows]
    pols, mems = {}, {}
    if ids:
        for r in conn.execute(sa.select(POL.c.group_id, POL.c.policy, POL.c.rules)
                              .where(POL.c.group_id.in_(ids)).order_by(POL.c.id)):
            pols.setdefault(r.group_id, (r.policy, r.rules))
        for r in conn.execute(sa.select(MEM.c.group_id, MEM.c.instance_uuid)
                              .where(MEM.c.group_id.in_(ids)).order_by(MEM.c.id)):
            mems.setdefault(r.group_id, []).append(r.instance_uuid)
    out = []
    for r in rows:
        policy, rules = pols.get(r.id, (None, None))
        try:
            rules = json.loads(rules) if rules else {}
        except ValueError:
            rules = {}
        out.append({"id": r.id, "uuid": r.uuid, "name": r.name, "user_id": r.user_id,
                    "project_id": r.project_id, "policy": policy,
                    "policies": [policy] if policy else [], "rules": rules,
                    "members": mems.get(r.id, []), "created_at": r.created_at,
                    "updated_at": r.updated_at})
    return out


def _find(conn, group_uuid, project_id=None):
    q = sa.select(GRP).where(GRP.c.uuid == group_uuid)
    if project_id is not None:
        q = q.where(GRP.c.project_id == project_id)
    row = conn.execute(q).first()
    if row is None:
        raise exception.InstanceGroupNotFound(group_uuid=group_uuid)
    return row


@retry_on_db_error
def count_groups(project_id):
    """Server groups of the project (quota ``server_groups``)."""
    with _engine().connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(GRP)
                            .where(GRP.c.project_id == project_id)).scalar_one()


@retry_on_db_error
def create_group(project_id, user_id, name, policy, rules=None, limit=None):
    """Create a group with one policy.

    :param policy: one of :data:`POLICIES`; :param rules: dict (2.64+, kept).
    :param limit: the project's ``server_groups`` limit (None/-1 unlimited),
        checked under the project's quota generation row.
    :raises OverQuota.
    :returns: the group dict.
    """
    if policy not in POLICIES:
        raise exception.Invalid("Invalid server group policy %s" % policy)
    with _engine().begin() as conn:
        if limit is not None and limit >= 0:
            bump_project_generation(conn, project_id)
            n = conn.execute(sa.select(sa.func.count()).select_from(GRP)
                             .where(GRP.c.project_id == project_id)).scalar_one()
            if n + 1 > limit:
                raise exception.OverQuota(resource="server_groups", limit=limit, count=n)
        uuid = new_uuid()
        res = conn.execute(sa.insert(GRP).values(uuid=uuid, name=name, user_id=user_id,
                                                 project_id=project_id))
        gid = res.inserted_primary_key[0]
        conn.execute(sa.insert(POL).values(group_id=gid, policy=policy,
                                           rules=json.dumps(rules) if rules else None))
        row = conn.execute(sa.select(GRP).where(GRP.c.id == gid)).first()
        return _load_many(conn, [row])[0]


@retry_on_db_error
def get_group(group_uuid, project_id=None):
    """The group with policy and members.

    :param project_id: when given (non-admin caller), a group of another
        project is reported as not found.
    :raises InstanceGroupNotFound.
    """
    with _engine().connect() as conn:
        return _load_many(conn, [_find(conn, group_uuid, project_id)])[0]


@retry_on_db_error
def get_group_for_instance(instance_uuid):
    """The group the instance is a member of, or None."""
    with _engine().connect() as conn:
        row = conn.execute(sa.select(GRP).select_from(GRP.join(MEM, MEM.c.group_id == GRP.c.id))
                           .where(MEM.c.instance_uuid == instance_uuid)).first()
        return _load_many(conn, [row])[0] if row is not None else None


@retry_on_db_error
def list_groups(project_id=None, limit=None, offset=None):
    """Groups of a project (None: every project), oldest first.

    :param limit, offset: Nova's os-server-groups paging parameters.
    """
    q = sa.select(GRP).order_by(GRP.c.id)
    if project_id is not None:
        q = q.where(GRP.c.project_id == project_id)
    if offset:
        q = q.offset(offset)
    if limit is not None:
        q = q.limit(limit)
    with _engine().connect() as conn:
        return _load_many(conn, conn.execute(q).all())


@retry_on_db_error
def delete_group(group_uuid, project_id=None):
    """Delete the group (policy and member rows go with it).

    :param project_id: restrict to a project (non-admin caller).
    :raises InstanceGroupNotFound.
    """
    with _engine().begin() as conn:
        row = _find(conn, group_uuid, project_id)
        conn.execute(sa.delete(MEM).where(MEM.c.group_id == row.id))
        conn.execute(sa.delete(POL).where(POL.c.group_id == row.id))
        conn.execute(sa.delete(GRP).where(GRP.c.id == row.id))


@retry_on_db_error
def add_members(group_uuid, instance_uuids, limit=None):
    """Add instances to the group (idempotent per instance).

    :param limit: ``server_group_members`` limit (None/-1 unlimited); the
        count includes the new members.
    :raises InstanceGroupNotFound, OverQuota.
    :returns: the group dict after the change.
    """
    with _engine().begin() as conn:
        row = _find(conn, group_uuid)
        # Lock-free serialisation: members of one group are added one
        # transaction at a time through the group's row.
        conn.execute(sa.update(GRP).where(GRP.c.id == row.id)
                     .values(updated_at=sa.func.now()))
        current = set(conn.execute(sa.select(MEM.c.instance_uuid)
                                   .where(MEM.c.group_id == row.id)).scalars())
        new = [u for u in dict.fromkeys(instance_uuids) if u not in current]
        if limit is not None and limit >= 0 and len(current) + len(new) > limit:
            raise exception.OverQuota(resource="server_group_members", limit=limit,
                                      count=len(current))
        for u in new:
            conn.execute(sa.insert(MEM).values(group_id=row.id, instance_uuid=u))
        row = conn.execute(sa.select(GRP).where(GRP.c.id == row.id)).first()
        return _load_many(conn, [row])[0]


@retry_on_db_error
def remove_member(instance_uuid):
    """Remove the instance from whatever group holds it (server delete).

    :returns: True if a membership was removed.
    """
    with _engine().begin() as conn:
        res = conn.execute(sa.delete(MEM).where(MEM.c.instance_uuid == instance_uuid))
    return res.rowcount > 0


@retry_on_db_error
def get_group_hosts(group_uuid, exclude=()):
    """Hosts the group's members run on (for the affinity filters).

    Members are found through ``instance_mappings`` → cell database
    ``instances.host`` (non-deleted, host set). Members still only build
    requests have no host yet and are left out.

    :param exclude: instance uuids to leave out (the instance being scheduled).
    :returns: ``{"group": group dict, "hosts": sorted list of str,
        "member_hosts": {instance_uuid: host}}``.
    :raises InstanceGroupNotFound.
    """
    group = get_group(group_uuid)
    members = [u for u in group["members"] if u not in set(exclude)]
    member_hosts = {}
    if members:
        with _engine().connect() as conn:
            rows = conn.execute(
                sa.select(IMAP.c.instance_uuid, CELLS.c.id, CELLS.c.uuid,
                          CELLS.c.database_connection)
                .select_from(IMAP.join(CELLS, CELLS.c.id == IMAP.c.cell_id))
                .where(IMAP.c.instance_uuid.in_(members))).all()
        by_cell = {}
        for r in rows:
            by_cell.setdefault((r.uuid, r.database_connection), []).append(r.instance_uuid)
        for (cell_uuid, url), uuids in by_cell.items():
            if cell_uuid == db_engine.CELL0_UUID:
                continue
            eng = db_engine.cell_engine({"database_connection": url})
            with eng.connect() as conn:
                for r in conn.execute(sa.select(INST.c.uuid, INST.c.host).where(
                        INST.c.uuid.in_(uuids), INST.c.deleted == 0,
                        INST.c.host.isnot(None))):
                    member_hosts[r.uuid] = r.host
    return {"group": group, "hosts": sorted(set(member_hosts.values())),
            "member_hosts": member_hosts}
