"""Response bodies of /os-server-groups (Nova's view; 2.13 adds
``project_id`` and ``user_id``)."""


def group(grp, version):
    out = {"id": grp["uuid"], "name": grp["name"] or "",
           "policies": list(grp["policies"]), "members": list(grp["members"]),
           "metadata": {}}
    if version >= (2, 13):
        out["project_id"] = grp["project_id"] or ""
        out["user_id"] = grp["user_id"] or ""
    return out
