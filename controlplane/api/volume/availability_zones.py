"""``GET /os-availability-zone``: the zones of the volume backends
(Cinder's ``availabilityZoneInfo``; a zone is available when one of its
enabled volume services is up). :func:`known_zones` is what volume
create validates ``availability_zone`` against."""
import flask

from controlplane.api import common
from controlplane.db import engine as db_engine
from controlplane.db import volume_pools as db_pools
from controlplane.db import volume_services as db_services

bp = flask.Blueprint("volume_availability_zones", __name__)


def zone_states():
    """``{zone: available (bool)}`` over the volume services and pools."""
    eng = db_engine.api_engine()
    zones = {}
    for svc in db_services.list_services(eng, binary=db_services.VOLUME_BINARY):
        zone = svc.get("availability_zone")
        if zone:
            zones[zone] = zones.get(zone, False) or (svc["up"] and not svc["disabled"])
    for pool in db_pools.list_pools(eng):
        if pool.get("availability_zone"):
            zones.setdefault(pool["availability_zone"], False)
    return zones


def known_zones():
    """Every zone a volume service or pool reports."""
    return set(zone_states())


@bp.get("/os-availability-zone")
def index():
    """``{"availabilityZoneInfo": [{"zoneName", "zoneState": {"available"}}]}``."""
    common.authorize("volume_extension:availability_zone_list",
                     {"project_id": common.context().project_id})
    return {"availabilityZoneInfo": [
        {"zoneName": z, "zoneState": {"available": up}}
        for z, up in sorted(zone_states().items())]}
