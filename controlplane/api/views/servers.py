"""Server views: the dicts /servers answers, per microversion.

Nova's ``nova/api/openstack/compute/views/servers.py`` behaviour: the
``basic`` view (list, update, rebuild) and the ``detail`` view (show,
detail list) with the extension attributes (``OS-EXT-STS``,
``OS-EXT-SRV-ATTR`` for admins, ``OS-EXT-AZ``, ``OS-SRV-USG``, ...), and
per microversion: 2.3 more ``OS-EXT-SRV-ATTR``, 2.9 ``locked``, 2.16
``host_status``, 2.19 ``description``, 2.26 ``tags``, 2.47 the flavor
embedded instead of a link.

An *instance* here is a dict: a cell's ``instances`` row
(:mod:`controlplane.db.instances`) or a build request's instance dict;
timestamps may be datetimes or ISO strings.
"""
import datetime
import hashlib

from controlplane.compute import states

PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE",
                     "MIGRATING")


def isotime(value):
    """``YYYY-MM-DDThh:mm:ssZ`` from a datetime or a string (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def host_id(project_id, host):
    """Nova's ``hostId``: sha224 of project id + host (``""`` without host)."""
    if not host:
        return ""
    return hashlib.sha224(((project_id or "") + host).encode()).hexdigest()


def status(instance):
    return states.status_from_state(instance.get("vm_state"), instance.get("task_state"))


def _links(base_url, kind, ident, self_link=True):
    out = []
    if self_link:
        out.append({"rel": "self", "href": "%s/v2.1/%s/%s" % (base_url, kind, ident)})
    out.append({"rel": "bookmark", "href": "%s/%s/%s" % (base_url, kind, ident)})
    return out


def image_view(instance, base_url):
    ref = instance.get("image_ref")
    if not ref:
        return ""
    return {"id": ref, "links": _links(base_url, "images", ref, self_link=False)}


def flavor_view(instance, base_url, version):
    flavor = instance.get("flavor") or {}
    if version >= (2, 47):
        return {"vcpus": int(flavor.get("vcpus", instance.get("vcpus") or 0)),
                "ram": int(flavor.get("memory_mb", instance.get("memory_mb") or 0)),
                "disk": int(flavor.get("root_gb", instance.get("root_gb") or 0)),
                "ephemeral": int(flavor.get("ephemeral_gb",
                                            instance.get("ephemeral_gb") or 0)),
                "swap": int(flavor.get("swap") or 0),
                "original_name": flavor.get("name", ""),
                "extra_specs": {str(k): str(v) for k, v in
                                (flavor.get("extra_specs") or {}).items()}}
    fid = flavor.get("flavorid") or flavor.get("id")
    if fid is None:
        return {}
    return {"id": str(fid), "links": _links(base_url, "flavors", fid, self_link=False)}


def fault_view(fault, is_admin):
    """``{"code", "message", "created", "details"?}``; details only for
    admins or for non-500 faults, as Nova."""
    out = {"code": int(fault.get("code") or 500), "message": fault.get("message") or "",
           "created": isotime(fault.get("created_at")) or ""}
    if fault.get("details") and (is_admin or out["code"] != 500):
        out["details"] = fault["details"]
    return out


def _common(instance, base_url, version, fault, is_admin):
    st = status(instance)
    created = isotime(instance.get("created_at"))
    out = {
        "id": instance["uuid"],
        "name": instance.get("display_name") or "",
        "status": st,
        "tenant_id": instance.get("project_id") or "",
        "user_id": instance.get("user_id") or "",
        "metadata": dict(instance.get("metadata") or {}),
        "hostId": host_id(instance.get("project_id"), instance.get("host")),
        "image": image_view(instance, base_url),
        "flavor": flavor_view(instance, base_url, version),
        "created": created,
        "updated": isotime(instance.get("updated_at")) or created,
        "addresses": {},
        "accessIPv4": instance.get("access_ip_v4") or "",
        "accessIPv6": instance.get("access_ip_v6") or "",
        "links": _links(base_url, "servers", instance["uuid"]),
        "OS-DCF:diskConfig": (instance.get("system_metadata") or {}).get(
            "disk_config", "MANUAL"),
    }
    if st in PROGRESS_STATUSES:
        out["progress"] = int(instance.get("progress") or 0)
    if fault is not None and st in ("ERROR", "DELETED"):
        out["fault"] = fault_view(fault, is_admin)
    if version >= (2, 9):
        out["locked"] = bool(instance.get("locked"))
    if version >= (2, 19):
        out["description"] = instance.get("display_description")
    if version >= (2, 26):
        out["tags"] = list(instance.get("tags") or [])
    return out


def basic(instance, base_url, version, fault=None, is_admin=False):
    """The view of PUT /servers/{id} (tempest ``update_server``)."""
    return _common(instance, base_url, version, fault, is_admin)


def summary(instance, base_url):
    """An item of GET /servers: ``{"id", "name", "links"}``."""
    return {"id": instance["uuid"], "name": instance.get("display_name") or "",
            "links": _links(base_url, "servers", instance["uuid"])}


def detail(instance, base_url, version, fault=None, show_extended=False,
           host_status=None):
    """The view of GET /servers/{id} and /servers/detail.

    :param show_extended: include ``OS-EXT-SRV-ATTR:*`` (admin policy).
    :param host_status: ``UP``/``DOWN``/``MAINTENANCE``/``UNKNOWN``/``""``
        for 2.16+ when the caller may see it, else None (left out).
    """
    out = _common(instance, base_url, version, fault, show_extended)
    out.update({
        "key_name": instance.get("key_name"),
        "security_groups": [{"name": "default"}],
        "OS-SRV-USG:launched_at": _usg_time(instance.get("launched_at")),
        "OS-SRV-USG:terminated_at": _usg_time(instance.get("terminated_at")),
        "OS-EXT-AZ:availability_zone": instance.get("availability_zone") or "",
        "OS-EXT-STS:task_state": instance.get("task_state"),
        "OS-EXT-STS:vm_state": instance.get("vm_state") or "",
        "OS-EXT-STS:power_state": int(instance.get("power_state") or 0),
        "os-extended-volumes:volumes_attached": [],
        "config_drive": str(instance.get("config_drive") or ""),
    })
    if show_extended:
        out.update({
            "OS-EXT-SRV-ATTR:host": instance.get("host"),
            "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.get("node"),
            "OS-EXT-SRV-ATTR:instance_name": "instance-%08x" % int(instance.get("id") or 0),
        })
        if version >= (2, 3):
            out.update({
                "OS-EXT-SRV-ATTR:reservation_id": instance.get("reservation_id"),
                "OS-EXT-SRV-ATTR:launch_index": int(instance.get("launch_index") or 0),
                "OS-EXT-SRV-ATTR:hostname": instance.get("hostname") or "",
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:root_device_name": None,
                "OS-EXT-SRV-ATTR:user_data": instance.get("user_data"),
            })
    if version >= (2, 16) and host_status is not None:
        out["host_status"] = host_status
    return out


def _usg_time(value):
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", ""))
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
