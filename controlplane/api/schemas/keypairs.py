"""Request bodies of /os-keypairs (Nova's keypairs schemas, 2.1 – 2.60).

2.2 adds ``type`` (``ssh`` | ``x509``), 2.10 ``user_id`` (admin creates a
key pair for another user). Names before 2.92: letters, digits, ``. _-``
and inner spaces.
"""
import copy

NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"}

create = {
    "type": "object",
    "properties": {
        "keypair": {
            "type": "object",
            "properties": {
                "name": NAME,
                "public_key": {"type": "string", "maxLength": 65535},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["keypair"],
    "additionalProperties": False,
}

create_v22 = copy.deepcopy(create)
create_v22["properties"]["keypair"]["properties"]["type"] = {
    "type": "string", "enum": ["ssh", "x509"]}

create_v210 = copy.deepcopy(create_v22)
create_v210["properties"]["keypair"]["properties"]["user_id"] = {
    "type": "string", "minLength": 1, "maxLength": 255}
