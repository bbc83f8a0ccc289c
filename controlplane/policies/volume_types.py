"""Policies of volume types and their extra specs (Cinder's
``volume_extension:types_manage``, ``volume_extension:type_get``...):
everybody lists public types, only the admin manages them and sees
private ones."""
from oslo_policy import policy

from controlplane.policies import base

T = "volume_extension:%s"


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(name, check, description,
                                        [{"method": method, "path": path}])


rules = [
    _rule(T % "type_get", base.ANY, "Show a volume type", "GET", "/types/{type_id}"),
    _rule(T % "type_get_all", base.ANY, "List volume types", "GET", "/types"),
    _rule(T % "types_manage", base.ADMIN, "Create, update and delete volume types",
          "POST", "/types"),
    _rule(T % "types_extra_specs:index", base.ANY, "List a type's extra specs",
          "GET", "/types/{type_id}/extra_specs"),
    _rule(T % "types_extra_specs:read_sensitive", base.ADMIN,
          "See the extra specs that name backends (volume_backend_name...)",
          "GET", "/types/{type_id}/extra_specs"),
    _rule(T % "types_extra_specs:manage", base.ADMIN,
          "Create, update and delete extra specs", "POST",
          "/types/{type_id}/extra_specs"),
    _rule(T % "volume_type_access", base.ADMIN, "See private types and their access",
          "GET", "/types?is_public=None"),
]
