"""Request schemas of /servers and the server actions (Nova's
``nova/api/openstack/compute/schemas/servers.py`` semantics, trimmed to
what this control plane supports; unknown keys are 400)."""
import copy

name = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?![\s])[\s\S]*(?<![\s])$"}
description = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
uuid_or_url = {"type": "string", "minLength": 1, "maxLength": 1024}
metadata = {
    "type": "object",
    "patternProperties": {
        r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}
positive_int = {"type": ["integer", "string"], "pattern": r"^[0-9]*$", "minimum": 1,
                "minLength": 1}
ip_v4 = {"type": "string", "format": "ipv4"}
ip_v6 = {"type": "string", "format": "ipv6"}

networks_list = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "fixed_ip": {"type": "string"},
            "port": {"type": ["string", "null"]},
            "uuid": {"type": "string"},
            "tag": {"type": "string"},
        },
        "additionalProperties": False,
    },
}

_server = {
    "type": "object",
    "properties": {
        "name": name,
        "imageRef": uuid_or_url,
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "adminPass": {"type": "string"},
        "metadata": metadata,
        "networks": networks_list,
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        "accessIPv4": ip_v4,
        "accessIPv6": ip_v6,
        "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
        "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "user_data": {"type": "string", "maxLength": 65535},
        "min_count": positive_int,
        "max_count": positive_int,
        "return_reservation_id": {"type": ["boolean", "string"],
                                  "enum": [True, False, "True", "False", "true",
                                           "false"]},
        "security_groups": {"type": "array", "items": {
            "type": "object", "properties": {"name": {"type": "string"}},
            "additionalProperties": False}},
        "config_drive": {"type": ["boolean", "string"],
                         "enum": [True, False, "True", "False", "true", "false", ""]},
        "block_device_mapping_v2": {"type": "array"},
        "personality": {"type": "array", "items": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "contents": {"type": "string"}},
            "additionalProperties": False}},
    },
    "required": ["name", "flavorRef"],
    "additionalProperties": False,
}

scheduler_hints = {
    "type": "object",
    "properties": {
        "group": {"type": "string", "format": "uuid"},
        "different_host": {"oneOf": [{"type": "string", "format": "uuid"},
                                     {"type": "array",
                                      "items": {"type": "string", "format": "uuid"}}]},
        "same_host": {"oneOf": [{"type": "string", "format": "uuid"},
                                {"type": "array",
                                 "items": {"type": "string", "format": "uuid"}}]},
        "query": {"type": ["string", "object"]},
        "target_cell": {"type": "string"},
        "build_near_host_ip": {"type": "string"},
        "cidr": {"type": "string"},
    },
    "additionalProperties": True,
}


def create(version):
    """Schema of POST /servers at ``version``: ``description`` from 2.19,
    ``networks`` ("auto"/"none" or a list) required from 2.37,
    ``tags`` from 2.52, no ``personality`` from 2.57."""
    server = copy.deepcopy(_server)
    props = server["properties"]
    if version >= (2, 19):
        props["description"] = description
    if version >= (2, 37):
        props["networks"] = {"oneOf": [networks_list,
                                       {"type": "string", "enum": ["none", "auto"]}]}
        server["required"].append("networks")
    if version >= (2, 52):
        props["tags"] = {"type": "array", "maxItems": 50,
                         "items": {"type": "string", "minLength": 1, "maxLength": 60,
                                   "pattern": "^[^,/]*$"}}
    if version >= (2, 57):
        props.pop("personality")
    return {
        "type": "object",
        "properties": {
            "server": server,
            "os:scheduler_hints": scheduler_hints,
            "OS-SCH-HNT:scheduler_hints": scheduler_hints,
        },
        "required": ["server"],
        "additionalProperties": False,
    }


def update(version):
    """Schema of PUT /servers/{id}: ``name``, ``accessIPv4/6``,
    ``OS-DCF:diskConfig``; ``description`` from 2.19."""
    props = {"name": name, "accessIPv4": ip_v4, "accessIPv6": ip_v6,
             "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]}}
    if version >= (2, 19):
        props["description"] = description
    return {
        "type": "object",
        "properties": {"server": {"type": "object", "properties": props,
                                  "additionalProperties": False}},
        "required": ["server"],
        "additionalProperties": False,
    }


reboot = {
    "type": "object",
    "properties": {"reboot": {
        "type": "object",
        "properties": {"type": {"type": "string",
                                "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}},
        "required": ["type"],
        "additionalProperties": False}},
    "required": ["reboot"],
    "additionalProperties": False,
}

start = {"type": "object", "properties": {"os-start": {"type": ["null", "object"]}},
         "required": ["os-start"], "additionalProperties": False}
stop = {"type": "object", "properties": {"os-stop": {"type": ["null", "object"]}},
        "required": ["os-stop"], "additionalProperties": False}
