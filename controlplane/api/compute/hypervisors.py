"""``/os-hypervisors``: compute nodes as hypervisors (Nova's os-hypervisors,
microversions 2.1 – 2.60), admin only.

* ``GET /os-hypervisors`` and ``/detail``: 2.33 adds ``limit``/``marker``
  and ``hypervisors_links``; 2.53 uses uuids, adds
  ``hypervisor_hostname_pattern`` (substring match, not combinable with
  paging; no match is 404) and ``with_servers``.
* ``GET /os-hypervisors/{id}`` (2.53: ``?with_servers``).
* ``GET /os-hypervisors/statistics`` (sums over all nodes).
* ``GET /os-hypervisors/{id}/uptime``: the compute service's uptime,
  reckoned from when its service row was created (there is no RPC to ask
  the host); a down service is 400, as Nova answers.
* Before 2.53 only: ``/os-hypervisors/{pattern}/search`` and
  ``/os-hypervisors/{pattern}/servers`` (no match: 404).

Nodes are read from every cell but cell0.
"""
import logging
import uuid as uuidlib

import flask

from controlplane.api import common, faults
from controlplane.api.compute.services import cell_engines
from controlplane.api.views import hypervisors as view
from controlplane.db import compute_nodes as db_nodes
from controlplane.db import instances as db_instances
from controlplane.db import services as db_services

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("hypervisors", __name__)

P = "os_compute_api:os-hypervisors:%s"


def _nodes():
    """Every node of every cell, each with ``_engine`` and ``service_row_id``."""
    out = []
    for _cm, eng in cell_engines():
        svc_ids = {s["host"]: s["id"] for s in
                   db_services.list_services(eng, binary=db_services.COMPUTE_BINARY)}
        for node in db_nodes.list_compute_nodes(eng):
            node["_engine"] = eng
            node["service_row_id"] = svc_ids.get(node["host"])
            out.append(node)
    return out


def _servers(nodes):
    """``{node id: [{"uuid", "name"}]}`` of the instances on ``nodes``."""
    out = {}
    by_engine = {}
    for n in nodes:
        by_engine.setdefault(id(n["_engine"]), (n["_engine"], []))[1].append(n)
    for eng, group in by_engine.values():
        insts = db_instances.list_instances_by_host(eng, sorted({n["host"] for n in group}))
        for n in group:
            out[n["uuid"]] = [
                {"uuid": i["uuid"], "name": i.get("display_name") or ""}
                for i in insts if i["host"] == n["host"]
                and (i.get("node") in (None, n["hypervisor_hostname"]))]
    return out


def _with_servers(version):
    if version < (2, 53):
        return False
    return common.bool_param("with_servers", False)


def _list(detail):
    version = common.req_version()
    nodes = _nodes()
    args = flask.request.args
    pattern = args.get("hypervisor_hostname_pattern") if version >= (2, 53) else None
    paging = version >= (2, 33)
    limit, marker = common.paginate_params() if paging else (None, None)
    if pattern is not None:
        if "limit" in args or "marker" in args:
            raise faults.BadRequest("Paging over hypervisors with the "
                                    "hypervisor_hostname_pattern query parameter is not "
                                    "supported.")
        nodes = [n for n in nodes if pattern in n["hypervisor_hostname"]]
        if not nodes:
            raise faults.NotFound("No hypervisor matching '%s' could be found." % pattern)
    if version >= (2, 53):
        nodes.sort(key=lambda n: n["uuid"])
    if marker is not None:
        ids = [str(view.node_id(n, version)) for n in nodes]
        if marker not in ids:
            raise faults.BadRequest("marker [%s] not found" % marker)
        nodes = nodes[ids.index(marker) + 1:]
    if limit is not None:
        nodes = nodes[:limit]
    servers = _servers(nodes) if _with_servers(version) else {}
    build = view.detail if detail else view.summary
    items = [build(n, version, servers.get(n["uuid"]) if servers else None) for n in nodes]
    body = {"hypervisors": items}
    if paging:
        links = common.collection_links("os-hypervisors/detail" if detail else "os-hypervisors",
                                        items, limit)
        if links:
            body["hypervisors_links"] = links
    return body


@bp.get("/os-hypervisors")
def index():
    common.authorize(P % "list")
    return _list(detail=False)


@bp.get("/os-hypervisors/detail")
def detail():
    common.authorize(P % "list-detail")
    return _list(detail=True)


@bp.get("/os-hypervisors/statistics")
def statistics():
    """Sums of every node's totals and usage, plus ``count``."""
    common.authorize(P % "statistics")
    keys = ("vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb",
            "local_gb_used", "free_ram_mb", "free_disk_gb", "disk_available_least",
            "running_vms", "current_workload")
    stats = dict.fromkeys(keys, 0)
    nodes = _nodes()
    for n in nodes:
        for k, v in view.usage(n).items():
            stats[k] += v
    stats["count"] = len(nodes)
    return {"hypervisor_statistics": stats}


def _get(hypervisor_id, version):
    nodes = _nodes()
    if version >= (2, 53):
        try:
            uuidlib.UUID(hypervisor_id)
        except ValueError:
            raise faults.BadRequest("Invalid uuid %s" % hypervisor_id)
        found = [n for n in nodes if n["uuid"] == hypervisor_id]
    else:
        found = [n for n in nodes if str(n["id"]) == hypervisor_id]
    if not found:
        raise faults.NotFound("Hypervisor with ID %s could not be found." % hypervisor_id)
    if len(found) > 1:
        raise faults.BadRequest("Hypervisor id %s is ambiguous across cells; use "
                                "microversion 2.53 or later." % hypervisor_id)
    return found[0]


@bp.get("/os-hypervisors/<hypervisor_id>")
def show(hypervisor_id):
    common.authorize(P % "show")
    version = common.req_version()
    node = _get(hypervisor_id, version)
    servers = _servers([node]).get(node["uuid"]) if _with_servers(version) else None
    return {"hypervisor": view.detail(node, version, servers)}


def _uptime_text(since, now):
    delta = now - since
    days = delta.days
    hours, rest = divmod(delta.seconds, 3600)
    return " %s up %d days, %2d:%02d,  0 users,  load average: 0.00, 0.00, 0.00" % (
        now.strftime("%H:%M:%S"), days, hours, rest // 60)


@bp.get("/os-hypervisors/<hypervisor_id>/uptime")
def uptime(hypervisor_id):
    """``{"hypervisor": {"id", "hypervisor_hostname", "state", "status",
    "uptime"}}``; 400 when the compute service is down."""
    common.authorize(P % "uptime")
    version = common.req_version()
    node = _get(hypervisor_id, version)
    state, _status = view.node_state(node)
    if state != "up":
        raise faults.BadRequest("Compute service of %s is unavailable at this time."
                                % node["host"])
    svc = db_services.get_service_by_host_binary(node["_engine"], node["host"],
                                                 db_services.COMPUTE_BINARY)
    now = db_services.utcnow()
    since = (svc or {}).get("created_at") or now
    out = view.summary(node, version)
    out["uptime"] = _uptime_text(min(since, now), now)
    return {"hypervisor": out}


def _match(pattern):
    nodes = [n for n in _nodes() if pattern in n["hypervisor_hostname"]]
    if not nodes:
        raise faults.NotFound("No hypervisor matching '%s' could be found." % pattern)
    return nodes


@bp.get("/os-hypervisors/<pattern>/search")
def search(pattern):
    """Before 2.53: nodes whose name contains ``pattern``."""
    version = common.req_version()
    if version >= (2, 53):
        raise faults.NotFound("The resource could not be found.")
    common.authorize(P % "search")
    return {"hypervisors": [view.summary(n, version) for n in _match(pattern)]}


@bp.get("/os-hypervisors/<pattern>/servers")
def servers(pattern):
    """Before 2.53: matching nodes with their servers (key left out when a
    node has none, as Nova's v2 did)."""
    version = common.req_version()
    if version >= (2, 53):
        raise faults.NotFound("The resource could not be found.")
    common.authorize(P % "servers")
    nodes = _match(pattern)
    by_node = _servers(nodes)
    return {"hypervisors": [view.summary(n, version, by_node.get(n["uuid"]) or None)
                            for n in nodes]}
