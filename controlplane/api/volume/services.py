"""``/os-services`` of the Block Storage API (admin): list the volume and
volume-scheduler services, enable or disable one (Cinder's
``os-services``; ``cinder-volume``/``cinder-scheduler`` are accepted as
aliases of ``controlplane-volume``/``controlplane-volume-scheduler``)."""
import logging

import flask

from controlplane.api import common, faults
from controlplane.api.volume import helpers
from controlplane.api.volume.views import services as view
from controlplane.db import engine as db_engine
from controlplane.db import volume_services as db_services

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("volume_services", __name__)

ALIASES = {"cinder-volume": db_services.VOLUME_BINARY,
           "cinder-scheduler": db_services.SCHEDULER_BINARY}


@bp.get("/os-services")
def index():
    """``GET /os-services[?host=&binary=]`` → ``{"services": [...]}``."""
    common.authorize("volume_extension:services:index")
    binary = flask.request.args.get("binary")
    binary = ALIASES.get(binary, binary)
    services = db_services.list_services(db_engine.api_engine(), binary=binary,
                                         host=flask.request.args.get("host"))
    version = helpers.req_version()
    return {"services": [view.service(s, s["up"], version) for s in services]}


@bp.put("/os-services/<action>")
def update(action):
    """``enable`` / ``disable`` / ``disable-log-reason`` with body
    ``{"host", "binary"[, "disabled_reason"]}``."""
    common.authorize("volume_extension:services:update")
    if action not in ("enable", "disable", "disable-log-reason"):
        raise faults.NotFound("Unknown action %s" % action)
    body = common.json_body()
    host, binary = body.get("host"), body.get("binary")
    if not isinstance(host, str) or not host or not isinstance(binary, str) or not binary:
        raise faults.BadRequest("Missing required element 'host' or 'binary' in request "
                                "body.")
    binary = ALIASES.get(binary, binary)
    reason = body.get("disabled_reason")
    if action == "disable-log-reason":
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
            raise faults.BadRequest("Disabled reason contains invalid characters or is "
                                    "too long")
    disabled = action != "enable"
    try:
        svc = db_services.set_disabled(db_engine.api_engine(), host, binary, disabled,
                                       reason if action == "disable-log-reason" else None)
    except db_services.VolumeServiceNotFound as exc:
        raise faults.NotFound(exc.message)
    LOG.info("volume service %s on %s: %s", binary, host, action)
    out = {"host": svc["host"], "service": svc["binary"], "binary": svc["binary"],
           "disabled": svc["disabled"], "status": "disabled" if svc["disabled"] else "enabled"}
    if action != "disable":
        out["disabled_reason"] = svc.get("disabled_reason")
    return out
