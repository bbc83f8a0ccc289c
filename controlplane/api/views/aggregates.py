"""Response bodies of /os-aggregates (Nova's aggregate view, 2.41 adds uuid)."""
from controlplane.api.views.common_times import iso


def aggregate(agg, version, for_create=False):
    """The aggregate dict of ``controlplane.db.aggregates`` as the API shows
    it; the create response leaves out ``hosts`` and ``metadata``."""
    out = {
        "id": agg["id"],
        "name": agg["name"],
        "availability_zone": agg.get("availability_zone"),
        "created_at": iso(agg.get("created_at")),
        "updated_at": iso(agg.get("updated_at")),
        "deleted": False,
        "deleted_at": None,
    }
    if not for_create:
        out["hosts"] = list(agg.get("hosts") or [])
        out["metadata"] = dict(agg.get("metadata") or {})
    if version >= (2, 41):
        out["uuid"] = agg["uuid"]
    return out
