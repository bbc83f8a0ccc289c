"""Views of ``/os-services``, ``/scheduler-stats/get_pools`` and
``/os-availability-zone`` (Cinder's shapes)."""
from controlplane.api.views.common_times import iso
from controlplane.db.volume_services import VOLUME_BINARY


def service(svc, is_up, version):
    """A volume service row → Cinder's service entry (``cluster`` from 3.7)."""
    out = {"binary": svc["binary"], "host": svc["host"],
           "zone": svc.get("availability_zone") or "nova",
           "status": "disabled" if svc.get("disabled") else "enabled",
           "state": "up" if is_up else "down",
           "updated_at": iso(svc.get("updated_at") or svc.get("created_at")),
           "disabled_reason": svc.get("disabled_reason")}
    if version >= (3, 7):
        out["cluster"] = None
    if version >= (3, 49) and svc["binary"] == VOLUME_BINARY:
        out["backend_state"] = "up" if is_up else "down"
    return out


def pool(p, detail):
    """A pool of ``get_pools``; with ``detail`` its capabilities."""
    out = {"name": p["name"]}
    if detail:
        caps = dict(p.get("capabilities") or {})
        caps.update({
            "volume_backend_name": p.get("volume_backend_name") or p.get("backend"),
            "total_capacity_gb": p.get("total_capacity_gb", 0),
            "free_capacity_gb": p.get("free_capacity_gb", 0),
            "allocated_capacity_gb": p.get("allocated_capacity_gb", 0),
            "provisioned_capacity_gb": p.get("provisioned_capacity_gb", 0),
            "reserved_percentage": int(p.get("reserved_percentage") or 0),
            "max_over_subscription_ratio": p.get("max_over_subscription_ratio"),
            "thin_provisioning_support": bool(p.get("thin_provisioning_support")),
            "thick_provisioning_support": bool(p.get("thick_provisioning_support")),
            "pool_name": p.get("pool"),
            "availability_zone": p.get("availability_zone"),
            "timestamp": iso(p.get("updated_at")),
        })
        caps.setdefault("driver_version", "1.0.0")
        caps.setdefault("storage_protocol", "file")
        caps.setdefault("vendor_name", "controlplane")
        caps.setdefault("QoS_support", False)
        out["capabilities"] = caps
    return out
