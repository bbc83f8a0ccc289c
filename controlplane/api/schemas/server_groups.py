"""Request bodies of /os-server-groups (Nova's server_groups schemas,
2.1 – 2.60: ``policies`` is a one-element list; 2.15 adds the soft
policies; 2.64's ``policy``/``rules`` form is above the served range)."""
import copy

NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"}


def _create(policies):
    return {
        "type": "object",
        "properties": {
            "server_group": {
                "type": "object",
                "properties": {
                    "name": NAME,
                    "policies": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(policies)},
                        "uniqueItems": True,
                        "minItems": 1,
                        "maxItems": 1,
                    },
                },
                "required": ["name", "policies"],
                "additionalProperties": False,
            },
        },
        "required": ["server_group"],
        "additionalProperties": False,
    }


create = _create(["anti-affinity", "affinity"])
create_v215 = _create(["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"])
