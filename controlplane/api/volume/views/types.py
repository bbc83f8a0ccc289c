"""Volume type views (Cinder's ``cinder/api/views/types.py``).

Extra specs are shown to the admin; other users see only the
non-sensitive ones (not ``volume_backend_name`` nor scoped
``capabilities:`` keys), as Cinder's ``read_sensitive`` policy does.
"""
SENSITIVE_PREFIXES = ("volume_backend_name", "capabilities:", "RESKEY:")


def visible_specs(specs, read_sensitive):
    specs = dict(specs or {})
    if read_sensitive:
        return specs
    return {k: v for k, v in specs.items() if not k.startswith(SENSITIVE_PREFIXES)}


def volume_type(vtype, read_sensitive=False, with_access_key=True):
    """``{"id", "name", "description", "is_public", "extra_specs",
    "os-volume-type-access:is_public", "qos_specs_id"}``."""
    out = {"id": vtype["id"], "name": vtype["name"], "description": vtype.get("description"),
           "is_public": bool(vtype.get("is_public", True)),
           "extra_specs": visible_specs(vtype.get("extra_specs"), read_sensitive)}
    if with_access_key:
        out["os-volume-type-access:is_public"] = out["is_public"]
        out["qos_specs_id"] = None
    return out
