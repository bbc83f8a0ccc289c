"""Volume views (Cinder's ``cinder/api/v3/views/volumes.py``).

:func:`summary` is an entry of ``GET /volumes`` (id, name, links);
:func:`detail` the full volume of ``GET /volumes/{id}``,
``GET /volumes/detail`` and create/update answers. Per microversion:
``group_id`` from 3.13, ``provider_id`` from 3.21, ``service_uuid`` and
``shared_targets`` from 3.48. The admin sees ``os-vol-host-attr:host``,
``os-vol-tenant-attr:tenant_id`` and the migration attributes.
"""
from controlplane.api.views.common_times import iso
from controlplane.api.volume import helpers
from controlplane.volume import states


def summary(vol):
    """``{"id", "name", "links"}``."""
    return {"id": vol["id"], "name": vol["display_name"],
            "links": helpers.link("volumes", vol["id"])}


def attachment(att):
    """One entry of a volume's ``attachments`` (an attached attachment)."""
    return {"server_id": att["instance_uuid"], "attachment_id": att["id"],
            "attached_at": iso(att.get("attach_time")),
            "host_name": att.get("attached_host"), "volume_id": att["volume_id"],
            "device": att.get("mountpoint"), "id": att["volume_id"]}


def detail(vol, version, type_name=None, attachments=(), admin=False):
    """The full volume.

    :param type_name: the name of the volume's type (None when untyped).
    :param attachments: the volume's attachment dicts; only ``attached``
        ones are shown, as Cinder does.
    :param admin: show the admin-only attributes.
    """
    out = {
        "id": vol["id"],
        "name": vol["display_name"],
        "description": vol["display_description"],
        "size": int(vol["size"]),
        "status": vol["status"],
        "availability_zone": vol["availability_zone"],
        "created_at": iso(vol["created_at"]),
        "updated_at": iso(vol.get("updated_at")),
        "attachments": [attachment(a) for a in attachments
                        if a.get("attach_status") == states.ATTACHED],
        "links": helpers.link("volumes", vol["id"]),
        "encrypted": False,
        "replication_status": None,
        "snapshot_id": vol.get("snapshot_id"),
        "source_volid": vol.get("source_volid"),
        "user_id": vol.get("user_id"),
        "metadata": dict(vol.get("metadata") or {}),
        "bootable": "true" if vol.get("bootable") else "false",
        "volume_type": type_name,
        "multiattach": bool(vol.get("multiattach")),
        "consistencygroup_id": None,
        "migration_status": vol.get("migration_status"),
    }
    if vol.get("glance_metadata"):
        out["volume_image_metadata"] = {k: str(v) for k, v in vol["glance_metadata"].items()}
    if admin:
        out["os-vol-host-attr:host"] = vol.get("host")
        out["os-vol-tenant-attr:tenant_id"] = vol["project_id"]
        out["os-vol-mig-status-attr:migstat"] = vol.get("migration_status")
        out["os-vol-mig-status-attr:name_id"] = None
    if version >= (3, 13):
        out["group_id"] = None
    if version >= (3, 21):
        out["provider_id"] = None
    if version >= (3, 48):
        out["service_uuid"] = None
        out["shared_targets"] = False
    return out
