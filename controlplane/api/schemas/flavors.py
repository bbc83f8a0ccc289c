"""Request bodies of /flavors, os-extra_specs and os-flavor-access (Nova's
``flavor_manage``, ``flavors_extraspecs`` and ``flavor_access`` schemas,
microversions 2.1 – 2.60).

Integers may be given as JSON integers or digit strings (as Nova accepts);
the view functions convert them and check their ranges.
"""
import copy

MAX_INT = 2147483647

#: Names: printable, no leading/trailing white space.
NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"}

FLAVOR_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
             "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"}

_INT_LIKE = {"type": ["integer", "string"], "pattern": r"^[0-9]+$"}

DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 65535,
               "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"}

BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, False, "True", "False", "true", "false", "TRUE", "FALSE",
                    "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"]}

create = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "name": NAME,
                "id": FLAVOR_ID,
                "ram": _INT_LIKE,
                "vcpus": _INT_LIKE,
                "disk": _INT_LIKE,
                "OS-FLV-EXT-DATA:ephemeral": _INT_LIKE,
                "swap": _INT_LIKE,
                "rxtx_factor": {"type": ["number", "string"],
                                "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                "os-flavor-access:is_public": BOOLEAN,
            },
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}

#: 2.55 adds ``description``.
create_v255 = copy.deepcopy(create)
create_v255["properties"]["flavor"]["properties"]["description"] = DESCRIPTION

#: 2.55 ``PUT /flavors/{id}``: only the description can change.
update_v255 = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {"description": DESCRIPTION},
            "required": ["description"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}

#: Extra spec keys/values (Nova: keys 1-255 of ``[a-zA-Z0-9-_:. ]``,
#: values up to 255 characters; numbers and booleans are stored as text).
SPEC_KEY_PATTERN = r"^[a-zA-Z0-9-_:. ]{1,255}$"
_SPEC_VALUE = {"type": ["string", "number", "boolean"], "minLength": 0, "maxLength": 255}

extra_specs_create = {
    "type": "object",
    "properties": {
        "extra_specs": {
            "type": "object",
            "patternProperties": {SPEC_KEY_PATTERN: _SPEC_VALUE},
            "additionalProperties": False,
        },
    },
    "required": ["extra_specs"],
    "additionalProperties": False,
}

extra_spec_update = {
    "type": "object",
    "patternProperties": {SPEC_KEY_PATTERN: _SPEC_VALUE},
    "additionalProperties": False,
}

_TENANT = {
    "type": "object",
    "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255,
                              "pattern": r"^[a-zA-Z0-9-_]*$"}},
    "required": ["tenant"],
    "additionalProperties": False,
}

add_tenant_access = {
    "type": "object",
    "properties": {"addTenantAccess": _TENANT},
    "required": ["addTenantAccess"],
    "additionalProperties": False,
}

remove_tenant_access = {
    "type": "object",
    "properties": {"removeTenantAccess": _TENANT},
    "required": ["removeTenantAccess"],
    "additionalProperties": False,
}
