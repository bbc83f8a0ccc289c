"""``GET /limits``: the caller's absolute block-storage limits and usage
(Cinder's limits: ``maxTotalVolumes``, ``totalVolumesUsed``... and an
empty ``rate`` list; rate limiting is done per client by the pipeline)."""
import flask

from controlplane.api import common
from controlplane.api.volume import helpers
from controlplane.db import engine as db_engine
from controlplane.db import volume_quotas as db_vquotas

bp = flask.Blueprint("volume_limits", __name__)

_MAX = {"volumes": "maxTotalVolumes", "snapshots": "maxTotalSnapshots",
        "gigabytes": "maxTotalVolumeGigabytes", "backups": "maxTotalBackups",
        "backup_gigabytes": "maxTotalBackupGigabytes"}
_USED = {"volumes": "totalVolumesUsed", "snapshots": "totalSnapshotsUsed",
         "gigabytes": "totalGigabytesUsed", "backups": "totalBackupsUsed",
         "backup_gigabytes": "totalBackupGigabytesUsed"}


@bp.get("/limits")
def index():
    """``{"limits": {"rate": [], "absolute": {...}}}`` (tempest ``show_limits``)."""
    ctxt = common.context()
    common.authorize("limits_extension:used_limits", helpers.target(ctxt.project_id))
    eng = db_engine.api_engine()
    limits = db_vquotas.get_limits(eng, ctxt.project_id, type_names=[])
    usage = db_vquotas.count_usage(eng, ctxt.project_id)
    absolute = {}
    for key, name in _MAX.items():
        absolute[name] = int(limits.get(key, -1))
    for key, name in _USED.items():
        absolute[name] = int(usage.get(key, 0))
    return {"limits": {"rate": [], "absolute": absolute}}
