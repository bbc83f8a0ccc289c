"""Snapshot views (Cinder's ``cinder/api/views/snapshots.py``): the base
fields, plus ``os-extended-snapshot-attributes:progress``/``project_id``
in details (``volume_extension:extended_snapshot_attributes``)."""
from controlplane.api.views.common_times import iso


def basic(snap):
    """The fields of a create/update answer and of ``GET /snapshots``."""
    return {"id": snap["id"], "volume_id": snap["volume_id"], "status": snap["status"],
            "size": int(snap["volume_size"]), "name": snap["display_name"],
            "description": snap["display_description"],
            "created_at": iso(snap["created_at"]), "updated_at": iso(snap.get("updated_at")),
            "metadata": dict(snap.get("metadata") or {})}


def detail(snap, extended=True):
    """``GET /snapshots/{id}`` and ``GET /snapshots/detail`` entries."""
    out = basic(snap)
    if extended:
        out["os-extended-snapshot-attributes:progress"] = snap.get("progress") or (
            "100%" if snap["status"] == "available" else "0%")
        out["os-extended-snapshot-attributes:project_id"] = snap["project_id"]
    return out
