"""Periodic resource report of a compute service (Nova's ResourceTracker,
reporting half only).

For every node the driver presents, the totals (vCPUs, MiB, GiB), the
allocation ratios and reserved amounts of ``[DEFAULT]`` and the driver's
capabilities go to ``compute_nodes`` through
:func:`controlplane.db.compute_nodes.upsert_compute_node`. Usage
(``*_used``) is never written here: it belongs to the scheduler's claims.
"""
import logging

from controlplane.conf import CONF
from controlplane.db import compute_nodes as cn_db
from controlplane.db import instances as inst_db
from controlplane.db import services as svc_db

LOG = logging.getLogger(__name__)


class ResourceTracker:
    """Reports the driver's nodes into the cell database ``engine``."""

    def __init__(self, driver, engine):
        self.driver = driver
        self.engine = engine

    def node_values(self, nodename, running_vms=0, service_id=None):
        """The ``compute_nodes`` values of one node (a dict)."""
        res = self.driver.get_available_resource(nodename)
        values = {
            "host": nodename,
            "hypervisor_hostname": res.get("hypervisor_hostname", nodename),
            "hypervisor_type": res.get("hypervisor_type", "fake"),
            "hypervisor_version": res.get("hypervisor_version", 1),
            "cpu_info": res.get("cpu_info", "{}"),
            "vcpus": res["vcpus"],
            "memory_mb": res["memory_mb"],
            "local_gb": res["local_gb"],
            "running_vms": running_vms,
            "cpu_allocation_ratio": CONF.cpu_allocation_ratio,
            "ram_allocation_ratio": CONF.ram_allocation_ratio,
            "disk_allocation_ratio": CONF.disk_allocation_ratio,
            "reserved_host_memory_mb": CONF.reserved_host_memory_mb,
            "reserved_host_disk_mb": CONF.reserved_host_disk_mb,
            "reserved_host_cpus": CONF.reserved_host_cpus,
            "supported_instances": res.get("supported_instances", []),
            "stats": res.get("stats", {}),
        }
        if service_id is not None:
            values["service_id"] = service_id
        return values

    def update_available_resource(self):
        """Report every node once. Errors of one node are logged, the
        others are still reported. :returns: list of node dicts written."""
        nodes = self.driver.get_available_nodes()
        try:
            counts = inst_db.count_instances_by_host(self.engine, nodes)
        except Exception:  # noqa: BLE001 - the report must go on
            LOG.exception("could not count instances per host")
            counts = {}
        try:   # every node's service row in one query
            service_ids = {s["host"]: s["id"] for s in svc_db.list_services(
                self.engine, binary=svc_db.COMPUTE_BINARY, hosts=nodes)}
        except Exception:  # noqa: BLE001 - look them up one by one below
            LOG.exception("could not list the compute services")
            service_ids = None
        out = []
        for node in nodes:
            try:
                if service_ids is not None:
                    service_id = service_ids.get(node)
                else:
                    svc = svc_db.get_service_by_host_binary(self.engine, node,
                                                            svc_db.COMPUTE_BINARY)
                    service_id = svc["id"] if svc else None
                values = self.node_values(node, counts.get(node, 0), service_id)
                out.append(cn_db.upsert_compute_node(self.engine, values))
            except Exception:  # noqa: BLE001
                LOG.exception("resource report of node %s failed", node)
        LOG.debug("reported %d compute node(s): %s", len(out), ", ".join(nodes))
        return out
