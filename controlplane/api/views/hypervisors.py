"""Response bodies of /os-hypervisors (Nova's hypervisors view).

Input rows are those of ``controlplane.db.compute_nodes.list_compute_nodes``
(node columns plus ``service_*``, ``last_seen_up``, ``num_instances``).
Before 2.53 ids are integer row ids, from 2.53 uuids; ``cpu_info`` is a
JSON string before 2.28 and an object from 2.28. Used amounts include the
host's reserved memory and disk, as Nova reports them.
"""
import json
import math

from controlplane.db import services as db_services


def node_state(node):
    """``("up"|"down", "enabled"|"disabled")`` of a node's compute service."""
    if node.get("service_uuid") is None:
        return "down", "disabled"
    up = db_services.is_up({"forced_down": node.get("service_forced_down"),
                            "last_seen_up": node.get("last_seen_up")})
    return ("up" if up else "down"), ("disabled" if node.get("service_disabled") else "enabled")


def node_id(node, version):
    return node["uuid"] if version >= (2, 53) else node["id"]


def summary(node, version, servers=None):
    """``{"id", "hypervisor_hostname", "state", "status"}`` (+ ``servers``)."""
    state, status = node_state(node)
    out = {"id": node_id(node, version), "hypervisor_hostname": node["hypervisor_hostname"],
           "state": state, "status": status}
    if servers is not None:
        out["servers"] = servers
    return out


def usage(node):
    """Totals and used/free amounts Nova reports (MiB, GiB, vCPUs)."""
    mem_used = node["memory_mb_used"] + node.get("reserved_host_memory_mb", 0)
    disk_used = node["local_gb_used"] + math.ceil(node.get("reserved_host_disk_mb", 0) / 1024)
    return {
        "vcpus": node["vcpus"], "vcpus_used": node["vcpus_used"],
        "memory_mb": node["memory_mb"], "memory_mb_used": mem_used,
        "local_gb": node["local_gb"], "local_gb_used": disk_used,
        "free_ram_mb": node["memory_mb"] - mem_used,
        "free_disk_gb": node["local_gb"] - disk_used,
        "disk_available_least": node["local_gb"] - disk_used,
        "running_vms": int(node.get("num_instances") or node.get("running_vms") or 0),
        "current_workload": 0,
    }


def _cpu_info(raw, version):
    if version >= (2, 28):
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw or "{}")
        except ValueError:
            value = {}
        return value if isinstance(value, dict) else {}
    return raw if isinstance(raw, str) else json.dumps(raw or {})


def detail(node, version, servers=None):
    """Every field of ``GET /os-hypervisors/{id}``."""
    out = summary(node, version, servers)
    out.update(usage(node))
    out.update({
        "cpu_info": _cpu_info(node.get("cpu_info"), version),
        "host_ip": node.get("host_ip"),
        "hypervisor_type": node.get("hypervisor_type") or "fake",
        "hypervisor_version": int(node.get("hypervisor_version") or 0),
        "service": {
            "host": node.get("service_host") or node["host"],
            "id": (node.get("service_uuid") if version >= (2, 53)
                   else node.get("service_row_id") or node.get("service_id") or 0),
            "disabled_reason": node.get("service_disabled_reason"),
        },
    })
    return out
