"""``GET /scheduler-stats/get_pools[?detail=true]`` (admin): the backend
pools the volume services report, with their capabilities and the
scheduler's allocated/provisioned capacity (Cinder's scheduler stats)."""
import flask

from controlplane.api import common
from controlplane.api.volume import helpers
from controlplane.api.volume.views import services as view
from controlplane.db import engine as db_engine
from controlplane.db import volume_pools as db_pools

bp = flask.Blueprint("volume_pools", __name__)


@bp.get("/scheduler-stats/get_pools")
def get_pools():
    """``{"pools": [{"name"[, "capabilities"]}]}`` (tempest ``get_pools_*``)."""
    common.authorize("scheduler_extension:scheduler_stats:get_pools")
    detail = helpers.bool_query("detail", False)
    pools = db_pools.list_pools(db_engine.api_engine())
    name = flask.request.args.get("name")
    backend = flask.request.args.get("volume_backend_name")
    if name:
        pools = [p for p in pools if p["name"] == name]
    if backend:
        pools = [p for p in pools if (p.get("volume_backend_name") or p["backend"]) == backend]
    return {"pools": [view.pool(p, detail) for p in pools]}
