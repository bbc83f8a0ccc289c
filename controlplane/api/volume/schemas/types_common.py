"""Parameter types shared by the volume schemas (Cinder's
``cinder/api/validation/parameter_types.py`` in spirit)."""

name = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
description = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
_UUID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
uuid = {"type": "string", "pattern": _UUID}
uuid_or_null = {"type": ["string", "null"], "pattern": _UUID}
#: sizes in GiB: an integer or a string of digits, at least 1
size = {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1}
size_or_null = {"type": ["integer", "string", "null"], "pattern": r"^[0-9]+$", "minimum": 1}
boolean = {"type": ["boolean", "string"],
           "enum": [True, False, "True", "true", "TRUE", "False", "false", "FALSE",
                    "1", "0", "t", "f", "yes", "no", "y", "n", "on", "off"]}
metadata = {"type": "object",
            "patternProperties": {r"^[a-zA-Z0-9-_:. /]{1,255}$": {
                "type": "string", "maxLength": 255}},
            "additionalProperties": False}
extra_specs = {"type": "object",
               "patternProperties": {r"^[a-zA-Z0-9-_:. /]{1,255}$": {
                   "type": ["string", "integer", "number", "boolean"], "maxLength": 255}},
               "additionalProperties": False}
#: largest size, limit or count the database holds (a signed 32-bit int)
MAX_INT = 2147483647
