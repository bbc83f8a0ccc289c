"""Finding volumes and snapshots as the caller may see them.

A member or reader sees its project's resources only; one of another
project is 404 (never 403), as Cinder's ``project_only`` queries do. The
admin (``volume:get_all_admin``) sees every project's.
"""
from controlplane.api import common, faults
from controlplane.api.volume import helpers
from controlplane.db import engine as db_engine
from controlplane.db import snapshots as db_snapshots
from controlplane.db import volume_types as db_types
from controlplane.db import volumes as db_volumes
from controlplane.volume import exception as vexc

ALL_PROJECTS = "volume:get_all_admin"


def engine():
    return db_engine.api_engine()


def scope_project():
    """None for the admin (every project), else the caller's project."""
    if common.can(ALL_PROJECTS):
        return None
    return common.context().project_id


def get_volume(volume_id, rule="volume:get"):
    """The volume dict after ``rule`` allowed it on the volume's project.

    :raises faults.NotFound: unknown, deleted, another project's, or
        ``rule`` denied a reader of another project.
    """
    try:
        vol = db_volumes.get_volume(engine(), volume_id, project_id=scope_project())
    except vexc.VolumeNotFound:
        raise faults.NotFound("Volume %s could not be found." % volume_id)
    common.authorize(rule, helpers.target(vol["project_id"]),
                     exc=faults.NotFound if rule == "volume:get" else faults.Forbidden)
    return vol


def get_snapshot(snapshot_id, rule="volume:get_snapshot"):
    """The snapshot dict (same visibility rules as :func:`get_volume`)."""
    try:
        snap = db_snapshots.get_snapshot(engine(), snapshot_id, project_id=scope_project())
    except vexc.SnapshotNotFound:
        raise faults.NotFound("Snapshot %s could not be found." % snapshot_id)
    common.authorize(rule, helpers.target(snap["project_id"]),
                     exc=faults.NotFound if rule == "volume:get_snapshot" else faults.Forbidden)
    return snap


def type_names(type_ids):
    """``{type id: name}`` of the given ids."""
    return {tid: t["name"] for tid, t in db_types.get_volume_types(engine(), type_ids).items()}


def attachments_of(volume_ids):
    """``{volume id: [attachment dicts]}`` in one query."""
    out = {}
    ids = list(volume_ids)
    if not ids:
        return out
    for att in db_volumes.list_attachments(engine(), volume_ids=ids):
        out.setdefault(att["volume_id"], []).append(att)
    return out
