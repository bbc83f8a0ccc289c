"""Schemas of ``POST /volumes``, ``PUT /volumes/{id}`` and the actions."""
from controlplane.api.volume.schemas import types_common as t

create = {
    "type": "object",
    "properties": {
        "volume": {
            "type": "object",
            "properties": {
                "name": t.name, "display_name": t.name,
                "description": t.description, "display_description": t.description,
                "size": t.size_or_null,
                "availability_zone": {"type": ["string", "null"], "maxLength": 255},
                "source_volid": t.uuid_or_null,
                "snapshot_id": t.uuid_or_null,
                "backup_id": t.uuid_or_null,
                "imageRef": {"type": ["string", "null"], "maxLength": 255},
                "image_id": {"type": ["string", "null"], "maxLength": 255},
                "volume_type": {"type": ["string", "null"], "maxLength": 255},
                "metadata": {"oneOf": [t.metadata, {"type": "null"}]},
                "multiattach": t.boolean,
                "bootable": t.boolean,
                "consistencygroup_id": t.uuid_or_null,
                "group_id": t.uuid_or_null,
                "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]},
            },
            "additionalProperties": True,
        },
        "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]},
    },
    "required": ["volume"],
    "additionalProperties": False,
}

update = {
    "type": "object",
    "properties": {
        "volume": {
            "type": "object",
            "properties": {
                "name": t.name, "display_name": t.name,
                "description": t.description, "display_description": t.description,
                "metadata": t.metadata,
            },
            "additionalProperties": False,
        },
    },
    "required": ["volume"],
    "additionalProperties": False,
}

extend = {
    "type": "object",
    "properties": {"os-extend": {
        "type": "object",
        "properties": {"new_size": t.size},
        "required": ["new_size"],
        "additionalProperties": False}},
    "required": ["os-extend"],
    "additionalProperties": False,
}

reset_status = {
    "type": "object",
    "properties": {"os-reset_status": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "minLength": 1, "maxLength": 255},
            "attach_status": {"type": "string", "enum": ["attached", "detached"]},
            "migration_status": {"type": ["string", "null"], "maxLength": 255},
        },
        "additionalProperties": False}},
    "required": ["os-reset_status"],
    "additionalProperties": False,
}

upload_image = {
    "type": "object",
    "properties": {"os-volume_upload_image": {
        "type": "object",
        "properties": {
            "image_name": {"type": "string", "minLength": 1, "maxLength": 255},
            "force": t.boolean,
            "disk_format": {"type": "string", "enum": [
                "raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"]},
            "container_format": {"type": "string", "enum": ["bare"]},
            "visibility": {"type": "string", "enum": [
                "community", "public", "private", "shared"]},
            "protected": t.boolean,
        },
        "required": ["image_name"],
        "additionalProperties": False}},
    "required": ["os-volume_upload_image"],
    "additionalProperties": False,
}

set_bootable = {
    "type": "object",
    "properties": {"os-set_bootable": {
        "type": "object",
        "properties": {"bootable": t.boolean},
        "required": ["bootable"],
        "additionalProperties": False}},
    "required": ["os-set_bootable"],
    "additionalProperties": False,
}

metadata_body = {
    "type": "object",
    "properties": {"metadata": t.metadata},
    "required": ["metadata"],
    "additionalProperties": False,
}
