"""Schemas of volume types (``/types``) and their extra specs."""
from controlplane.api.volume.schemas import types_common as t

_type_name = {"type": "string", "minLength": 1, "maxLength": 255,
              "pattern": r"^(?! )[\S ]*(?<! )$"}

create = {
    "type": "object",
    "properties": {
        "volume_type": {
            "type": "object",
            "properties": {
                "name": _type_name,
                "description": t.description,
                "extra_specs": t.extra_specs,
                "os-volume-type-access:is_public": t.boolean,
                "is_public": t.boolean,
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["volume_type"],
    "additionalProperties": False,
}

update = {
    "type": "object",
    "properties": {
        "volume_type": {
            "type": "object",
            "properties": {
                "name": _type_name,
                "description": t.description,
                "is_public": t.boolean,
            },
            "additionalProperties": False,
        },
    },
    "required": ["volume_type"],
    "additionalProperties": False,
}

extra_specs = {
    "type": "object",
    "properties": {"extra_specs": dict(t.extra_specs, minProperties=1)},
    "required": ["extra_specs"],
    "additionalProperties": False,
}

extra_spec_item = {
    "type": "object",
    "minProperties": 1, "maxProperties": 1,
    "patternProperties": {r"^[a-zA-Z0-9-_:. /]{1,255}$": {
        "type": ["string", "integer", "number", "boolean"], "maxLength": 255}},
    "additionalProperties": False,
}

type_access = {
    "type": "object",
    "properties": {
        "addProjectAccess": {"type": "object", "properties": {
            "project": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["project"], "additionalProperties": False},
        "removeProjectAccess": {"type": "object", "properties": {
            "project": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["project"], "additionalProperties": False},
    },
    "minProperties": 1, "maxProperties": 1,
    "additionalProperties": False,
}
