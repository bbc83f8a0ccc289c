"""Request bodies of /os-aggregates (Nova's aggregates schemas, 2.1 – 2.60).

Availability zone names may not contain ``:`` (Nova reserves it for the
``az:host:node`` form of server create).
"""
NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^[^\x00-\x1f\x7f]*$"}
AZ_NAME = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
           "pattern": r"^[^:\x00-\x1f\x7f]*$"}
HOST = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^[a-zA-Z0-9-._]*$"}
META_KEY = r"^[a-zA-Z0-9-_:. /]{1,255}$"

create = {
    "type": "object",
    "properties": {
        "aggregate": {
            "type": "object",
            "properties": {"name": NAME, "availability_zone": AZ_NAME},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["aggregate"],
    "additionalProperties": False,
}

update = {
    "type": "object",
    "properties": {
        "aggregate": {
            "type": "object",
            "properties": {"name": NAME, "availability_zone": AZ_NAME},
            "additionalProperties": False,
            "minProperties": 1,
        },
    },
    "required": ["aggregate"],
    "additionalProperties": False,
}


def _host_action(name):
    return {
        "type": "object",
        "properties": {
            name: {
                "type": "object",
                "properties": {"host": HOST},
                "required": ["host"],
                "additionalProperties": False,
            },
        },
        "required": [name],
        "additionalProperties": False,
    }


add_host = _host_action("add_host")
remove_host = _host_action("remove_host")

set_metadata = {
    "type": "object",
    "properties": {
        "set_metadata": {
            "type": "object",
            "properties": {
                "metadata": {
                    "type": "object",
                    "patternProperties": {
                        META_KEY: {"type": ["string", "null"], "maxLength": 255},
                    },
                    "additionalProperties": False,
                },
            },
            "required": ["metadata"],
            "additionalProperties": False,
        },
    },
    "required": ["set_metadata"],
    "additionalProperties": False,
}
