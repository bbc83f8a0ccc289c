"""``/os-availability-zone`` and ``/os-availability-zone/detail`` (Nova's
os-availability-zone).

Zones are derived from services, as Nova does: a compute service is in its
aggregates' zone or ``[DEFAULT] default_availability_zone``, every other
service in ``internal``. A zone is *available* when at least one enabled
service is in it, otherwise (all its services disabled) it is listed as not
available. A zone of an aggregate without hosts is not listed. The plain
list (anyone) leaves ``internal`` out; the detail (admin) shows for each
available zone ``{host: {binary: {"available": up, "active": enabled,
"updated_at"}}}``.
"""
import flask

from controlplane.api import common
from controlplane.api.compute.services import INTERNAL_ZONE, all_services, host_zones, zone_of
from controlplane.api.views.common_times import iso

bp = flask.Blueprint("availability_zones", __name__)

P = "os_compute_api:os-availability-zone:%s"


def _zones():
    """``(available: {zone: [services]}, not_available: sorted [zone])``."""
    zones = host_zones()
    enabled, disabled = {}, set()
    for svc, _cm in all_services():
        zone = zone_of(svc, zones)
        if svc["disabled"]:
            disabled.add(zone)
        else:
            enabled.setdefault(zone, []).append(svc)
    return enabled, sorted(disabled - set(enabled))


@bp.get("/os-availability-zone")
def index():
    """→ ``{"availabilityZoneInfo": [{"zoneName", "zoneState": {"available"},
    "hosts": null}]}`` without the internal zone."""
    common.authorize(P % "list")
    enabled, not_available = _zones()
    out = [{"zoneName": z, "zoneState": {"available": True}, "hosts": None}
           for z in sorted(enabled) if z != INTERNAL_ZONE]
    out += [{"zoneName": z, "zoneState": {"available": False}, "hosts": None}
            for z in not_available if z != INTERNAL_ZONE]
    return {"availabilityZoneInfo": out}


@bp.get("/os-availability-zone/detail")
def detail():
    """Admin: every zone including ``internal`` with hosts and services."""
    common.authorize(P % "detail")
    enabled, not_available = _zones()
    out = []
    for zone in sorted(enabled):
        hosts = {}
        for svc in enabled[zone]:
            hosts.setdefault(svc["host"], {})[svc["binary"]] = {
                "available": bool(svc.get("up")),
                "active": not svc["disabled"],
                "updated_at": iso(svc.get("last_seen_up") or svc.get("updated_at")),
            }
        out.append({"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts})
    out += [{"zoneName": z, "zoneState": {"available": False}, "hosts": None}
            for z in not_available]
    return {"availabilityZoneInfo": out}
