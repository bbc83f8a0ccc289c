"""Response bodies of /os-services (Nova's services view).

Before 2.53 ``id`` is the integer row id (unique only within a cell),
from 2.53 the service uuid; ``forced_down`` is shown from 2.11.
"""
from controlplane.api.views.common_times import iso


def service(svc, zone, version):
    """A service row of ``controlplane.db.services`` (with ``up``) as the API
    shows it; ``zone`` is its availability zone."""
    out = {
        "id": svc["uuid"] if version >= (2, 53) else svc["id"],
        "binary": svc["binary"],
        "host": svc["host"],
        "zone": zone,
        "status": "disabled" if svc["disabled"] else "enabled",
        "state": "up" if svc.get("up") else "down",
        "updated_at": iso(svc.get("last_seen_up") or svc.get("updated_at")),
        "disabled_reason": svc.get("disabled_reason"),
    }
    if version >= (2, 11):
        out["forced_down"] = bool(svc.get("forced_down"))
    return out
