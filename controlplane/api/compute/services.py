"""``/os-services``: list, enable/disable, force down and delete services
(Nova's os-services, microversions 2.1 – 2.60), admin only.

Services live in the cell databases; the API reads every cell but cell0.
Before 2.53 a service is named by ``host`` + ``binary`` in the body of
``PUT /os-services/{enable,disable,disable-log-reason,force-down}`` and by
its integer id in ``DELETE``; from 2.53 by its uuid in ``PUT``/``DELETE``.
A compute service's zone is its aggregates' availability zone (else
``[DEFAULT] default_availability_zone``); other services are in the
``internal`` zone.

Helpers used by the other admin resources: :func:`cell_engines`,
:func:`find_compute_service`, :func:`host_zones`, :func:`zone_of`.
"""
import logging
import uuid as uuidlib

import flask

from controlplane import exception
from controlplane.api import common, faults
from controlplane.api.schemas import services as schema
from controlplane.api.views import services as view
from controlplane.conf import CONF
from controlplane.db import aggregates as db_aggregates
from controlplane.db import cells as db_cells
from controlplane.db import compute_nodes as db_nodes
from controlplane.db import engine as db_engine
from controlplane.db import instances as db_instances
from controlplane.db import services as db_services

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("services", __name__)

P = "os_compute_api:os-services:%s"
INTERNAL_ZONE = "internal"
COMPUTE_BINARY = db_services.COMPUTE_BINARY
#: Nova's binary names are accepted as aliases of ours in filters and bodies.
_ALIASES = {"nova-compute": COMPUTE_BINARY, "nova-conductor": db_services.CONDUCTOR_BINARY,
            "nova-scheduler": db_services.SCHEDULER_BINARY}


def is_compute(binary):
    return binary == COMPUTE_BINARY


def cell_engines():
    """``[(cell_mapping, engine)]`` of every cell but cell0."""
    return [(cm, db_engine.cell_engine(cm))
            for cm in db_cells.list_cell_mappings(include_cell0=False)]


def all_services(binary=None, host=None):
    """``[(service, cell_mapping)]`` of every cell, filtered."""
    out = []
    for cm, eng in cell_engines():
        for svc in db_services.list_services(eng, binary=binary, host=host):
            out.append((svc, cm))
    return out


def find_compute_service(host):
    """``(service, cell_mapping)`` of the compute service on ``host``.

    The host mapping names the cell; a host not mapped yet is looked for in
    every cell. :raises faults.NotFound: no such compute host.
    """
    try:
        cells = [db_cells.get_host_mapping(host)["cell_mapping"]]
    except exception.HostMappingNotFound:
        cells = db_cells.list_cell_mappings(include_cell0=False)
    for cm in cells:
        svc = db_services.get_service_by_host_binary(db_engine.cell_engine(cm), host,
                                                     COMPUTE_BINARY)
        if svc is not None:
            return svc, cm
    raise faults.NotFound("Compute host %s could not be found." % host)


def host_zones():
    """``{host: zone}`` of every host in a zone aggregate (zones of several
    aggregates are comma-joined, sorted)."""
    zones = {}
    for host, aggs in db_aggregates.host_aggregates_map().items():
        names = sorted({a["metadata"]["availability_zone"] for a in aggs
                        if a["metadata"].get("availability_zone")})
        if names:
            zones[host] = ",".join(names)
    return zones


def zone_of(svc, zones):
    """The availability zone Nova shows for a service row."""
    if not is_compute(svc["binary"]):
        return INTERNAL_ZONE
    return zones.get(svc["host"], CONF.default_availability_zone)


@bp.get("/os-services")
def index():
    """``GET /os-services[?host=&binary=]`` → ``{"services": [...]}``."""
    common.authorize(P % "list")
    version = common.req_version()
    binary = flask.request.args.get("binary")
    binary = _ALIASES.get(binary, binary)
    services = all_services(binary=binary, host=flask.request.args.get("host"))
    zones = host_zones()
    return {"services": [view.service(s, zone_of(s, zones), version) for s, _cm in services]}


def _by_host_binary(host, binary):
    binary = _ALIASES.get(binary, binary)
    for cm, eng in cell_engines():
        svc = db_services.get_service_by_host_binary(eng, host, binary)
        if svc is not None:
            return svc, eng
    raise faults.NotFound("Service %s on host %s not found." % (binary, host))


def _legacy_update(action):
    version = common.req_version()
    body = common.json_body()
    if action == "force-down":
        if version < (2, 11):
            raise faults.NotFound("Unknown action")
        body = common.validate(schema.service_force_down, body)
    else:
        body = common.validate(schema.service_update_v211 if version >= (2, 11)
                               else schema.service_update, body)
    svc, eng = _by_host_binary(body["host"], body["binary"])
    out = {"host": body["host"], "binary": body["binary"]}
    if action == "enable":
        values = {"disabled": False, "disabled_reason": None}
        out["status"] = "enabled"
    elif action == "disable":
        values = {"disabled": True}
        out["status"] = "disabled"
    elif action == "disable-log-reason":
        reason = body.get("disabled_reason")
        if not reason:
            raise faults.BadRequest("Missing disabled reason field")
        values = {"disabled": True, "disabled_reason": reason}
        out.update(status="disabled", disabled_reason=reason)
    else:
        values = {"forced_down": body["forced_down"]}
        out["forced_down"] = body["forced_down"]
    db_services.update_service(eng, svc["id"], values)
    LOG.info("service %s on %s: %s", body["binary"], body["host"], action)
    return {"service": out}


def _find_by_uuid(service_uuid):
    for cm, eng in cell_engines():
        try:
            return db_services.get_service(eng, service_uuid), eng
        except db_services.ServiceNotFound:
            continue
    raise faults.NotFound("Service %s could not be found." % service_uuid)


def _find_by_int_id(service_id):
    found = []
    for cm, eng in cell_engines():
        try:
            found.append((db_services.get_service(eng, service_id), eng))
        except db_services.ServiceNotFound:
            continue
    if not found:
        raise faults.NotFound("Service %s could not be found." % service_id)
    if len(found) > 1:
        raise faults.BadRequest("Service id %s refers to multiple services." % service_id)
    return found[0]


def _check_uuid(value):
    try:
        uuidlib.UUID(value)
    except ValueError:
        raise faults.BadRequest("Invalid uuid %s" % value)


@bp.put("/os-services/<service_id>")
def update(service_id):
    """Pre-2.53: ``service_id`` is an action name. 2.53+: a service uuid and
    the body ``{"status", "disabled_reason", "forced_down"}`` → the service."""
    common.authorize(P % "update")
    version = common.req_version()
    if version < (2, 53):
        if service_id not in ("enable", "disable", "disable-log-reason", "force-down"):
            raise faults.NotFound("Unknown action")
        return _legacy_update(service_id)
    _check_uuid(service_id)
    body = common.validate(schema.service_update_v253, common.json_body())
    if "status" not in body and "forced_down" not in body:
        raise faults.BadRequest("No updates were requested. Fields 'status' or "
                                "'forced_down' should be specified.")
    status = body.get("status")
    if "disabled_reason" in body and status != "disabled":
        raise faults.BadRequest("Specifying 'disabled_reason' with status '%s' is invalid."
                                % status)
    svc, eng = _find_by_uuid(service_id)
    if not is_compute(svc["binary"]):
        raise faults.BadRequest("Updating a %s service is not supported. Only compute "
                                "services can be updated." % svc["binary"])
    values = {}
    if status == "enabled":
        values.update(disabled=False, disabled_reason=None)
    elif status == "disabled":
        values.update(disabled=True, disabled_reason=body.get("disabled_reason"))
    if "forced_down" in body:
        values["forced_down"] = body["forced_down"]
    svc = db_services.update_service(eng, service_id, values)
    LOG.info("service %s (%s on %s) updated: %s", service_id, svc["binary"], svc["host"],
             values)
    return {"service": view.service(svc, zone_of(svc, host_zones()), version)}


@bp.delete("/os-services/<service_id>")
def delete(service_id):
    """Delete a service (204). A compute service that still hosts instances
    is 409; deleting one also removes its compute nodes and aggregate
    memberships, as Nova does."""
    common.authorize(P % "delete")
    if common.req_version() >= (2, 53):
        _check_uuid(service_id)
        svc, eng = _find_by_uuid(service_id)
    else:
        try:
            int(service_id)
        except ValueError:
            raise faults.BadRequest("Invalid ID %s" % service_id)
        svc, eng = _find_by_int_id(service_id)
    if is_compute(svc["binary"]):
        if db_instances.count_instances_by_host(eng, [svc["host"]]).get(svc["host"]):
            raise faults.Conflict("Unable to delete compute service that is hosting "
                                  "instances. Migrate or delete the instances first.")
        for agg in db_aggregates.host_aggregates_map().get(svc["host"], []):
            try:
                db_aggregates.remove_host(agg["id"], svc["host"])
            except exception.NotFound:
                pass
        for node in db_nodes.get_compute_nodes(eng, host=svc["host"]):
            db_nodes.delete_compute_node(eng, node["uuid"])
    db_services.delete_service(eng, svc["uuid"])
    LOG.info("deleted service %s (%s on %s)", svc["uuid"], svc["binary"], svc["host"])
    return "", 204
