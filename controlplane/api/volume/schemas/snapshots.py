"""Schemas of ``POST /snapshots`` and ``PUT /snapshots/{id}``."""
from controlplane.api.volume.schemas import types_common as t

create = {
    "type": "object",
    "properties": {
        "snapshot": {
            "type": "object",
            "properties": {
                "name": t.name, "display_name": t.name,
                "description": t.description, "display_description": t.description,
                "volume_id": t.uuid,
                "force": t.boolean,
                "metadata": {"oneOf": [t.metadata, {"type": "null"}]},
            },
            "required": ["volume_id"],
            "additionalProperties": False,
        },
    },
    "required": ["snapshot"],
    "additionalProperties": False,
}

update = {
    "type": "object",
    "properties": {
        "snapshot": {
            "type": "object",
            "properties": {
                "name": t.name, "display_name": t.name,
                "description": t.description, "display_description": t.description,
            },
            "additionalProperties": False,
        },
    },
    "required": ["snapshot"],
    "additionalProperties": False,
}

reset_status = {
    "type": "object",
    "properties": {"os-reset_status": {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": [
            "creating", "available", "deleting", "error", "error_deleting"]}},
        "required": ["status"],
        "additionalProperties": False}},
    "required": ["os-reset_status"],
    "additionalProperties": False,
}
