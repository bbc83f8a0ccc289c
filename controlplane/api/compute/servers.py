"""/servers: create, list, show, update and delete servers (Nova semantics).

Create: validate → flavor → image (Glance, user's token) → quota
check-and-create of instance mappings, build requests and request specs in
one transaction (:func:`controlplane.quota.create_instances`) → cast
``conductor.schedule_and_build_instances``. A server lives as a build
request until the conductor has put it into a cell (or cell0); lists merge
build requests and every cell. A member never sees another project's
server (404).
"""
import base64
import binascii
import datetime
import logging
import re
import secrets
import uuid as uuidlib

import flask

from controlplane import exception
from controlplane import quota
from controlplane.api import common, faults
from controlplane.api.schemas import servers as schema
from controlplane.api.views import servers as views
from controlplane.compute import states
from controlplane.db import build_requests as db_br
from controlplane.db import cells as db_cells
from controlplane.db import engine as db_engine
from controlplane.db import instances as db_instances
from controlplane.image import glance

LOG = logging.getLogger(__name__)

bp = flask.Blueprint("servers", __name__)

P = "os_compute_api:servers:%s"
COMPUTE_BINARY = "controlplane-compute"

_conductor = None


def conductor_api():
    """The process-wide :class:`controlplane.conductor.rpcapi.ConductorAPI`."""
    global _conductor
    if _conductor is None:
        from controlplane.conductor.rpcapi import ConductorAPI
        _conductor = ConductorAPI()
    return _conductor


# --- locating a server ---------------------------------------------------

def _target(project_id, user_id=None):
    return {"project_id": project_id, "user_id": user_id}


def _can_see(ctxt, project_id):
    return common.can(P % "show", _target(project_id))


def lookup(server_id, rule=None):
    """Find a server the caller may see.

    :returns: ``(instance dict, cell_mapping or None, instance mapping)``;
        cell_mapping None means the server is still a build request.
    :raises faults.NotFound: no such server, or another project's server
        for a caller who may not see it (404, never 403).
    :raises faults.Forbidden: visible but ``rule`` denies the action.
    """
    ctxt = common.context()
    for _attempt in range(3):
        try:
            mapping = db_cells.get_instance_mapping(server_id)
        except exception.NotFound:
            raise faults.NotFound("Instance %s could not be found." % server_id)
        if mapping.get("queued_for_delete") and mapping.get("cell_mapping") is None:
            raise faults.NotFound("Instance %s could not be found." % server_id)
        if not _can_see(ctxt, mapping["project_id"]):
            raise faults.NotFound("Instance %s could not be found." % server_id)
        if rule is not None:
            common.authorize(rule, _target(mapping["project_id"], mapping.get("user_id")))
        cell = mapping.get("cell_mapping")
        if cell is None:
            try:
                br = db_br.get_build_request(server_id)
            except db_br.BuildRequestNotFound:
                continue   # the conductor just moved it into a cell: look again
            return _from_build_request(br), None, mapping
        try:
            inst = db_instances.get_instance(db_engine.cell_engine(cell), server_id)
        except db_instances.InstanceNotFound:
            raise faults.NotFound("Instance %s could not be found." % server_id)
        return inst, cell, mapping
    raise faults.NotFound("Instance %s could not be found." % server_id)


def _from_build_request(br):
    inst = dict(br["instance"])
    inst.setdefault("uuid", br["instance_uuid"])
    inst["created_at"] = br.get("created_at")
    inst["updated_at"] = br.get("updated_at")
    inst.setdefault("vm_state", states.BUILDING)
    inst.setdefault("task_state", states.SCHEDULING)
    inst["_build_request"] = True
    return inst


def _fault_for(inst, cell):
    if cell is None or inst.get("vm_state") != states.ERROR:
        return None
    return db_instances.get_latest_fault(db_engine.cell_engine(cell), inst["uuid"])


def _host_status(inst, cell):
    if not inst.get("host") or cell is None:
        return ""
    from controlplane.db import services as db_services
    try:
        svcs = db_services.list_services(db_engine.cell_engine(cell), host=inst["host"])
    except Exception:   # the cell database is unreachable
        LOG.warning("cannot read services of cell %s", cell.get("uuid"))
        return "UNKNOWN"
    svcs = [s for s in svcs if "compute" in (s.get("binary") or "")]
    if not svcs:
        return "UNKNOWN"
    svc = svcs[0]
    if not svc.get("up"):
        return "DOWN"
    if svc.get("disabled"):
        return "MAINTENANCE"
    return "UP"


def _detail_view(inst, cell, fault=None):
    version = common.req_version()
    admin_attrs = common.can("os_compute_api:os-extended-server-attributes",
                             _target(inst.get("project_id")))
    host_status = None
    if version >= (2, 16) and common.can(P % "show:host_status",
                                         _target(inst.get("project_id"))):
        host_status = _host_status(inst, cell)
    return views.detail(inst, common.base_url(), version, fault=fault,
                        show_extended=admin_attrs, host_status=host_status)


# --- show / list -----------------------------------------------------------

@bp.route("/servers/<server_id>", methods=["GET"])
def show(server_id):
    """``{"server": detail view}``; 404 for unknown or foreign servers."""
    inst, cell, _m = lookup(server_id)
    return flask.jsonify({"server": _detail_view(inst, cell, _fault_for(inst, cell))})


_STATUS_TO_STATES = {
    "ACTIVE": ({"vm_state": [states.ACTIVE]}),
    "BUILD": ({"vm_state": [states.BUILDING]}),
    "SHUTOFF": ({"vm_state": [states.STOPPED]}),
    "ERROR": ({"vm_state": [states.ERROR]}),
    "DELETED": ({"vm_state": [states.DELETED]}),
    "PAUSED": ({"vm_state": [states.PAUSED]}),
    "SUSPENDED": ({"vm_state": [states.SUSPENDED]}),
    "REBOOT": ({"vm_state": [states.ACTIVE, states.STOPPED],
                "task_state": [states.REBOOTING, states.REBOOT_PENDING,
                               states.REBOOT_STARTED]}),
    "HARD_REBOOT": ({"vm_state": [states.ACTIVE, states.STOPPED],
                     "task_state": [states.REBOOTING_HARD, states.REBOOT_PENDING_HARD,
                                    states.REBOOT_STARTED_HARD]}),
}


def _list_filters():
    """Search options of GET /servers[/detail] → (project_id or None, filters,
    status filter or None). Unknown status gives an empty list (Nova)."""
    ctxt = common.context()
    args = flask.request.args
    detail_rule = P % ("detail" if flask.request.path.endswith("/detail") else "index")
    common.authorize(detail_rule)
    project_id = ctxt.project_id
    all_tenants = "all_tenants" in args
    if all_tenants:
        try:
            all_tenants = common.bool_param("all_tenants", True)
        except faults.BadRequest:
            raise faults.BadRequest("Invalid all_tenants value")
    if all_tenants:
        common.authorize(detail_rule + ":get_all_tenants")
        project_id = args.get("project_id") or args.get("tenant_id") or None
    elif common.can(P % "allow_all_filters") and (args.get("project_id")
                                                  or args.get("tenant_id")):
        project_id = args.get("project_id") or args.get("tenant_id")
    filters = {}
    if args.get("name"):
        filters["name"] = args["name"]
    if args.get("host") and common.can(P % "allow_all_filters"):
        filters["host"] = args["host"]
    if args.get("image"):
        filters["image"] = args["image"].rstrip("/").split("/")[-1]
    if args.get("flavor"):
        filters["flavor"] = args["flavor"].rstrip("/").split("/")[-1]
    if args.get("changes-since"):
        filters["changes-since"] = _changes_since(args["changes-since"])
    status = args.get("status")
    if status is not None:
        status = status.upper()
        if status not in _STATUS_TO_STATES:
            status = "__none__"
    return project_id, filters, status


def _changes_since(raw):
    """The ``changes-since`` query parameter (ISO 8601, UTC when it has no
    offset, as Nova's API guide says) as a naive UTC datetime.

    :raises faults.BadRequest: not an ISO 8601 date and time.
    """
    try:
        value = datetime.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise faults.BadRequest("Invalid filter field: changes-since.")
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _matches(inst, filters, status):
    if status == "__none__":
        return False
    if status is not None:
        want = _STATUS_TO_STATES[status]
        if inst.get("vm_state") not in want["vm_state"]:
            return False
        if "task_state" in want and inst.get("task_state") not in want["task_state"]:
            return False
        if status in ("ACTIVE", "SHUTOFF") and views.status(inst) != status:
            return False
    name = filters.get("name")
    if name:
        try:
            if not re.search(name, inst.get("display_name") or ""):
                return False
        except re.error:
            if name not in (inst.get("display_name") or ""):
                return False
    if filters.get("host") and inst.get("host") != filters["host"]:
        return False
    if filters.get("image") and inst.get("image_ref") != filters["image"]:
        return False
    if filters.get("flavor") and str((inst.get("flavor") or {}).get("flavorid")) != \
            filters["flavor"]:
        return False
    return True


def _sort_key(inst):
    created = inst.get("created_at")
    return (views.isotime(created) or "", inst["uuid"])


def gather(project_id, filters, status, limit, marker):
    """Servers from build requests and every cell (cell0 included), newest
    first, after ``marker``, at most ``limit``.

    With ``filters["changes-since"]`` (naive UTC datetime) only servers
    changed since then are listed, deleted ones included (Nova: instances
    whose ``updated_at`` is at or after it; build requests created or
    updated since then).

    :returns: list of ``(instance, cell_mapping or None)``.
    :raises faults.BadRequest: the marker is not a server of the listing.
    """
    found = {}
    since = filters.get("changes-since")
    if filters.get("host") is None:   # build requests have no host
        for br in db_br.list_build_requests(project_id=project_id, changes_since=since):
            inst = _from_build_request(br)
            if _matches(inst, filters, status):
                found[inst["uuid"]] = (inst, None)
    db_filters = {k: v for k, v in filters.items()
                  if k in ("host", "image", "changes-since")}
    read_deleted = "yes" if since is not None else "no"
    for cell in db_cells.list_cell_mappings(include_cell0=True):
        try:
            rows = db_instances.list_instances(db_engine.cell_engine(cell),
                                               project_id=project_id, filters=db_filters,
                                               read_deleted=read_deleted)
        except Exception:
            LOG.exception("cannot list servers of cell %s; it is left out",
                          cell.get("name") or cell.get("uuid"))
            continue
        for inst in rows:
            if _matches(inst, filters, status):
                found[inst["uuid"]] = (inst, cell)   # a cell row wins over its build request
    ordered = sorted(found.values(), key=lambda ic: _sort_key(ic[0]), reverse=True)
    if marker:
        idx = next((i for i, (inst, _c) in enumerate(ordered) if inst["uuid"] == marker),
                   None)
        if idx is None:
            raise faults.BadRequest("marker [%s] not found" % marker)
        ordered = ordered[idx + 1:]
    return ordered[:limit]


def _list(detail):
    project_id, filters, status = _list_filters()
    limit, marker = common.paginate_params()
    items = gather(project_id, filters, status, limit, marker)
    base = common.base_url()
    if detail:
        faults_by_uuid = {}
        by_cell = {}
        for inst, cell in items:
            if cell is not None and inst.get("vm_state") == states.ERROR:
                by_cell.setdefault(cell["uuid"], (cell, []))[1].append(inst["uuid"])
        for cell, uuids in by_cell.values():
            faults_by_uuid.update(db_instances.get_latest_faults(
                db_engine.cell_engine(cell), uuids))
        servers = [_detail_view(inst, cell, faults_by_uuid.get(inst["uuid"]))
                   for inst, cell in items]
    else:
        servers = [views.summary(inst, base) for inst, _c in items]
    body = {"servers": servers}
    links = common.collection_links("servers/detail" if detail else "servers", servers,
                                    limit)
    if links:
        body["servers_links"] = links
    return flask.jsonify(body)


@bp.route("/servers", methods=["GET"])
def index():
    """``{"servers": [{"id", "name", "links"}], "servers_links"?}``."""
    return _list(detail=False)


@bp.route("/servers/detail", methods=["GET"])
def detail():
    """``{"servers": [detail view], "servers_links"?}``."""
    return _list(detail=True)


# --- create ------------------------------------------------------------------

def _ref_id(ref):
    return str(ref).rstrip("/").split("/")[-1]


def _parse_az(ctxt, az):
    """``az``, ``az:host``, ``az:host:node``, ``az::node`` → (zone, host, node);
    forcing a host or node needs ``servers:create:forced_host`` (403)."""
    if not az:
        return None, None, None
    parts = az.split(":")
    if len(parts) > 3:
        raise faults.BadRequest("Invalid availability_zone %r" % az)
    zone = parts[0] or None
    host = parts[1] if len(parts) > 1 and parts[1] else None
    node = parts[2] if len(parts) > 2 and parts[2] else None
    if host or node:
        common.authorize(P % "create:forced_host")
    return zone, host, node


def _get_flavor(ctxt, ref):
    from controlplane.db import flavors as db_flavors
    flavorid = _ref_id(ref)
    project = None if ctxt.is_admin else ctxt.project_id
    try:
        getter = getattr(db_flavors, "get_flavor_by_flavorid", None) or db_flavors.get_flavor
        flavor = getter(flavorid, project_id=project)
    except exception.NotFound:
        raise faults.BadRequest("Flavor %s could not be found." % flavorid)
    if flavor.get("disabled"):
        raise faults.BadRequest("Flavor %s is disabled." % flavorid)
    return flavor


def _get_image(ctxt, ref, flavor):
    image_id = _ref_id(ref)
    try:
        image = glance.get_image(ctxt, image_id)
    except glance.ImageNotFound:
        raise faults.BadRequest("Image %s could not be found." % image_id)
    except glance.ImageServiceUnavailable as exc:
        raise faults.for_status(503, str(exc))
    if image.get("status") != "active":
        raise faults.BadRequest("Image %s is not active." % image_id)
    if image.get("min_ram", 0) > flavor["memory_mb"]:
        raise faults.BadRequest("Flavor's memory is too small for requested image.")
    if flavor.get("root_gb") and image.get("min_disk", 0) > flavor["root_gb"]:
        raise faults.BadRequest("Flavor's disk is too small for requested image.")
    return image


def _key_pair(ctxt, key_name):
    if not key_name:
        return None
    from controlplane.db import keypairs as db_keypairs
    try:
        return db_keypairs.get_keypair(ctxt.user_id, key_name)
    except exception.NotFound:
        raise faults.BadRequest("Invalid key_name provided.")


def _user_data(value):
    if value is None:
        return None
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise faults.BadRequest("Invalid input for field/attribute user_data. "
                                "Value must be base64 encoded.")
    return value


def _count(value, field):
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise faults.BadRequest("Invalid input for field/attribute %s." % field)
    if n < 1:
        raise faults.BadRequest("%s must be >= 1" % field)
    return n


def _scheduler_hints(body):
    hints = dict(body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints")
                 or {})
    for key in ("same_host", "different_host"):
        if key in hints and isinstance(hints[key], str):
            hints[key] = [hints[key]]
    return hints


def _instance_group(ctxt, hints):
    group_uuid = hints.get("group")
    if not group_uuid:
        return None
    from controlplane.db import server_groups as db_groups
    try:
        group = db_groups.get_group(group_uuid,
                                    project_id=None if ctxt.is_admin else ctxt.project_id)
    except exception.NotFound:
        raise faults.BadRequest("Invalid server group: %s could not be found." % group_uuid)
    return group


def _flavor_snapshot(flavor):
    keys = ("id", "flavorid", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb",
            "swap", "rxtx_factor", "vcpu_weight", "is_public", "disabled", "description")
    snap = {k: flavor.get(k) for k in keys}
    snap["extra_specs"] = dict(flavor.get("extra_specs") or {})
    return snap


def _hostname(name):
    host = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-.")
    return (host or "server")[:63]


_create_schemas = {}


def _create_schema(version):
    """The POST /servers schema of ``version``, built once per microversion."""
    key = (version.major, version.minor)
    found = _create_schemas.get(key)
    if found is None:
        found = _create_schemas[key] = schema.create(version)
    return found


@bp.route("/servers", methods=["POST"])
def create():
    """Boot servers: 202 ``{"server": {"id", "links", "adminPass",
    "OS-DCF:diskConfig", "security_groups"}}`` (or ``{"reservation_id"}``
    with ``return_reservation_id``)."""
    ctxt = common.context()
    common.authorize(P % "create", _target(ctxt.project_id, ctxt.user_id))
    version = common.req_version()
    body = common.validate(_create_schema(version), common.json_body())
    server = body["server"]
    if not server.get("imageRef"):
        raise faults.BadRequest("imageRef is required: booting from volume is not "
                                "supported.")
    name = server["name"]
    min_count = _count(server.get("min_count", 1), "min_count")
    max_count = _count(server.get("max_count", min_count), "max_count")
    if min_count > max_count:
        raise faults.BadRequest("min_count must be <= max_count")
    zone, force_host, force_node = _parse_az(ctxt, server.get("availability_zone"))
    user_data = _user_data(server.get("user_data"))
    metadata = server.get("metadata") or {}
    quota.enforce(ctxt.project_id, ctxt.user_id, {"metadata_items": len(metadata)})
    flavor = _get_flavor(ctxt, server["flavorRef"])
    image = _get_image(ctxt, server["imageRef"], flavor)
    keypair = _key_pair(ctxt, server.get("key_name"))
    hints = _scheduler_hints(body)
    group = _instance_group(ctxt, hints)
    disk_config = server.get("OS-DCF:diskConfig", "MANUAL")
    admin_pass = server.get("adminPass") or secrets.token_urlsafe(9)[:12]
    reservation_id = "r-" + secrets.token_hex(4)
    flavor_snap = _flavor_snapshot(flavor)
    image_meta = {"id": image["id"], "name": image.get("name"),
                  "min_ram": image.get("min_ram", 0), "min_disk": image.get("min_disk", 0),
                  "properties": image.get("properties") or {}}
    system_metadata = {"image_" + k: str(v) for k, v in image_meta["properties"].items()}
    system_metadata.update(disk_config=disk_config, image_base_image_ref=image["id"])
    group_info = None
    if group is not None:
        group_info = {"uuid": group["uuid"], "policy": group.get("policy"),
                      "rules": group.get("rules") or {}}

    def build(count, n):
        items = []
        for index in range(n):
            uid = str(uuidlib.uuid4())
            display = name if n == 1 else "%s-%d" % (name, index + 1)
            instance = {
                "uuid": uid, "project_id": ctxt.project_id, "user_id": ctxt.user_id,
                "display_name": display,
                "display_description": server.get("description"),
                "hostname": _hostname(display), "availability_zone": zone,
                "flavor": flavor_snap, "vcpus": flavor["vcpus"],
                "memory_mb": flavor["memory_mb"], "root_gb": flavor.get("root_gb") or 0,
                "ephemeral_gb": flavor.get("ephemeral_gb") or 0,
                "image_ref": image["id"],
                "key_name": keypair["name"] if keypair else None,
                "key_data": keypair.get("public_key") if keypair else None,
                "user_data": user_data,
                "config_drive": "True" if str(server.get("config_drive", "")).lower()
                in ("true",) else "",
                "access_ip_v4": server.get("accessIPv4"),
                "access_ip_v6": server.get("accessIPv6"),
                "vm_state": states.BUILDING, "task_state": states.SCHEDULING,
                "power_state": states.NOSTATE, "locked": False,
                "launch_index": index, "reservation_id": reservation_id,
                "metadata": dict(metadata), "system_metadata": dict(system_metadata),
            }
            spec = {
                "instance_uuid": uid, "num_instances": n,
                "project_id": ctxt.project_id, "user_id": ctxt.user_id,
                "flavor": flavor_snap, "image": image_meta,
                "availability_zone": zone,
                "force_hosts": [force_host] if force_host else [],
                "force_nodes": [force_node] if force_node else [],
                "ignore_hosts": [], "scheduler_hints": hints,
                "instance_group": group_info,
            }
            items.append({"instance_uuid": uid, "vcpus": flavor["vcpus"],
                          "memory_mb": flavor["memory_mb"],
                          "build_request": instance, "request_spec": spec})
        return items

    items = build(max_count, max_count)
    try:
        quota.create_instances(ctxt.project_id, ctxt.user_id, items)
    except quota.QuotaExceeded as exc:
        allowed = _allowed_count(exc.overs, flavor)
        if max_count == min_count or allowed < min_count:
            raise
        items = build(allowed, allowed)
        quota.create_instances(ctxt.project_id, ctxt.user_id, items)
    if group is not None:
        _add_group_members(group, [i["instance_uuid"] for i in items])
    build_requests = [{"instance_uuid": i["instance_uuid"], "project_id": ctxt.project_id,
                       "instance": i["build_request"]} for i in items]
    specs = [i["request_spec"] for i in items]
    try:
        conductor_api().schedule_and_build_instances(ctxt, build_requests, specs)
    except Exception as exc:
        LOG.exception("cast to the conductor failed; undoing the create of %s",
                      [i["instance_uuid"] for i in items])
        for i in items:
            _delete_build_request_records(i["instance_uuid"])
        raise faults.for_status(503, "The conductor cannot be reached: %s" % exc)
    LOG.info("server(s) %s requested by project %s", [i["instance_uuid"] for i in items],
             ctxt.project_id)
    if str(server.get("return_reservation_id", "")).lower() == "true":
        return flask.jsonify({"reservation_id": reservation_id}), 202
    first = items[0]["instance_uuid"]
    out = {"id": first, "links": common.link("servers", first),
           "OS-DCF:diskConfig": disk_config, "security_groups": [{"name": "default"}],
           "adminPass": admin_pass}
    resp = flask.jsonify({"server": out})
    resp.status_code = 202
    resp.headers["Location"] = out["links"][0]["href"]
    return resp


def _allowed_count(overs, flavor):
    per = {"instances": 1, "cores": flavor["vcpus"], "ram": flavor["memory_mb"]}
    allowed = None
    for over in overs:
        unit = per.get(over["resource"]) or 1
        n = max(0, (over["limit"] - over["used"]) // unit)
        allowed = n if allowed is None else min(allowed, n)
    return allowed or 0


def _add_group_members(group, uuids):
    from controlplane.db import server_groups as db_groups
    limit = quota.get_project_limits(group.get("project_id") or
                                     common.context().project_id)["server_group_members"]
    try:
        db_groups.add_members(group["uuid"], uuids, limit=limit)
    except exception.OverQuota:
        for u in uuids:
            _delete_build_request_records(u)
        raise faults.QuotaExceeded("Quota exceeded, too many servers in group")


def _delete_build_request_records(instance_uuid):
    """Remove a never-scheduled server's API records (build request, spec,
    mapping, group membership).

    The mapping is queued for delete first, so that a conductor which takes
    the build request at the same moment sees the server as deleted
    (``queued_for_delete``) and removes what it created.

    :returns: True if this call deleted the build request; False if the
        conductor had already consumed it (the server is in a cell now).
    """
    db_cells.queue_instance_mapping_for_delete(instance_uuid)
    if not db_br.delete_build_request(instance_uuid):
        return False
    db_br.delete_request_spec(instance_uuid)
    db_cells.delete_instance_mapping(instance_uuid)
    try:
        from controlplane.db import server_groups as db_groups
        db_groups.remove_member(instance_uuid)
    except Exception:   # best effort: group bookkeeping only
        LOG.debug("no group membership removed for %s", instance_uuid)
    return True


# --- update / delete ---------------------------------------------------------

@bp.route("/servers/<server_id>", methods=["PUT"])
def update(server_id):
    """Rename/describe a server: 200 ``{"server": basic view}``."""
    version = common.req_version()
    body = common.validate(schema.update(version), common.json_body())
    inst, cell, _m = lookup(server_id, rule=P % "update")
    if cell is None:
        raise faults.Conflict("Cannot 'update' instance %s while it is in vm_state "
                              "building" % server_id)
    values = {}
    changes = body["server"]
    if "name" in changes:
        values["display_name"] = changes["name"]
        values["hostname"] = _hostname(changes["name"])
    if "description" in changes:
        values["display_description"] = changes["description"]
    if "accessIPv4" in changes:
        values["access_ip_v4"] = changes["accessIPv4"]
    if "accessIPv6" in changes:
        values["access_ip_v6"] = changes["accessIPv6"]
    if values:
        try:
            inst = db_instances.update_instance(db_engine.cell_engine(cell), server_id,
                                                values)
        except db_instances.InstanceNotFound:
            raise faults.NotFound("Instance %s could not be found." % server_id)
    return flask.jsonify({"server": views.basic(inst, common.base_url(), version,
                                                fault=_fault_for(inst, cell),
                                                is_admin=common.context().is_admin)})


@bp.route("/servers/<server_id>", methods=["DELETE"])
def delete(server_id):
    """Delete a server: 204.

    A server that is still only a build request is deleted in the API
    database (the conductor then finds its build request gone and stops).
    A server in cell0, or in ERROR without a host, is deleted directly in
    its cell. Otherwise the mapping is queued for delete (quota freed),
    task_state becomes ``deleting`` by compare-and-swap and
    ``terminate_instance`` is cast to its host.
    """
    ctxt = common.context()
    for attempt in range(3):
        try:
            inst, cell, mapping = lookup(server_id, rule=P % "delete")
        except faults.NotFound:
            if attempt:
                # we queued it and the conductor finished the delete meanwhile
                return flask.Response(status=204)
            raise
        if cell is None:
            if _delete_build_request_records(server_id):
                LOG.info("deleted server %s while it was a build request", server_id)
                return flask.Response(status=204)
            continue   # the conductor took it meanwhile: look again
        return _delete_in_cell(ctxt, inst, cell)
    raise faults.Conflict("Server %s changed while being deleted; retry" % server_id)


def _local_delete(ctxt, inst, cell):
    engine = db_engine.cell_engine(cell)
    db_cells.queue_instance_mapping_for_delete(inst["uuid"])
    db_instances.soft_delete_instance(engine, inst["uuid"])
    db_br.delete_request_spec(inst["uuid"])
    try:
        from controlplane.db import server_groups as db_groups
        db_groups.remove_member(inst["uuid"])
    except Exception:
        LOG.debug("no group membership removed for %s", inst["uuid"])
    LOG.info("deleted server %s locally in cell %s", inst["uuid"], cell.get("name"))
    return flask.Response(status=204)


def _delete_in_cell(ctxt, inst, cell):
    engine = db_engine.cell_engine(cell)
    if cell["uuid"] == db_engine.CELL0_UUID or not inst.get("host"):
        return _local_delete(ctxt, inst, cell)
    if inst.get("task_state") == states.DELETING:
        # Already on its way, but its terminate_instance may have been lost
        # or have failed (the RPC server acks a failed handler): cast it
        # again, as Nova's delete does for an instance already deleting.
        # The compute's terminate_instance is idempotent.
        try:
            _cast_terminate(ctxt, inst, cell)
        except Exception as exc:  # noqa: BLE001 - the compute's periodic task finishes it
            LOG.warning("could not cast terminate_instance again for server %s, already "
                        "deleting (the compute's complete_stale_deletes will finish it): "
                        "%s", inst["uuid"], exc)
        return flask.Response(status=204)
    db_cells.queue_instance_mapping_for_delete(inst["uuid"])
    for _attempt in range(5):
        try:
            inst = db_instances.update_instance(
                engine, inst["uuid"], {"task_state": states.DELETING},
                expected_task_state=[inst.get("task_state")])
            break
        except db_instances.UnexpectedDeletingTaskStateError:
            return flask.Response(status=204)
        except db_instances.UnexpectedTaskStateError:
            inst = db_instances.get_instance(engine, inst["uuid"])
        except db_instances.InstanceNotFound:
            return flask.Response(status=204)
    else:
        raise faults.Conflict("Server %s is changing state; retry the delete" % inst["uuid"])
    db_instances.record_action(engine, inst["uuid"], "delete", ctxt.request_id,
                               user_id=ctxt.user_id, project_id=ctxt.project_id)
    _cast_terminate(ctxt, inst, cell)
    return flask.Response(status=204)


def _cast_terminate(ctxt, inst, cell):
    """Cast ``terminate_instance`` to the instance's host through its cell's
    transport_url (raises the RPC layer's errors)."""
    from controlplane.api.compute.server_actions import compute_api
    compute_api().terminate_instance(ctxt, inst["host"], inst["uuid"],
                                     transport_url=cell.get("transport_url"))
