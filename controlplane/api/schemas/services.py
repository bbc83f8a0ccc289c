"""Request bodies of /os-services (Nova's services schemas).

Before 2.53 the actions are ``PUT /os-services/{enable,disable,
disable-log-reason,force-down}`` with ``host`` and ``binary`` in the body;
from 2.53 ``PUT /os-services/{uuid}`` takes ``status``, ``disabled_reason``
and ``forced_down``.
"""
import copy

_HOST = {"type": "string", "minLength": 1, "maxLength": 255,
         "pattern": r"^[a-zA-Z0-9-._]*$"}
_BINARY = {"type": "string", "minLength": 1, "maxLength": 255}
_REASON = {"type": "string", "minLength": 1, "maxLength": 255}

service_update = {
    "type": "object",
    "properties": {"host": _HOST, "binary": _BINARY, "disabled_reason": _REASON},
    "required": ["host", "binary"],
    "additionalProperties": False,
}

#: 2.11 force-down
service_update_v211 = copy.deepcopy(service_update)
service_update_v211["properties"]["forced_down"] = {"type": "boolean"}

service_force_down = copy.deepcopy(service_update_v211)
service_force_down["required"] = ["host", "binary", "forced_down"]

service_update_v253 = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["enabled", "disabled"]},
        "disabled_reason": _REASON,
        "forced_down": {"type": "boolean"},
    },
    "additionalProperties": False,
}
