"""RamFilter, DiskFilter, CoreFilter: room for the flavor under the
allocation ratios.

Nova now leaves these to Placement; here they run in the scheduler with
Placement's capacity, the same formula as the claim
(:func:`controlplane.db.compute_nodes.claim`), so that a host that passes
the filter also passes the claim unless another scheduler was faster::

    used + requested <= (total - reserved) * allocation_ratio

Disk is counted in GiB: ``root_gb + ephemeral_gb + ceil(swap_mb / 1024)``.
A request of 0 for a resource does not check it.
"""
from controlplane.scheduler.filters.base import BaseHostFilter


class RamFilter(BaseHostFilter):
    """``memory_mb_used + flavor.memory_mb <= (memory_mb - reserved) * ram_allocation_ratio``."""

    def filter_mask(self, states, req):
        need = req.allocation["memory_mb"]
        if not need:
            return None
        return states.memory_mb_used + need <= states.cap_ram_mb


class DiskFilter(BaseHostFilter):
    """``local_gb_used + disk_gb <= (local_gb - ceil(reserved_mb/1024)) * disk_allocation_ratio``."""

    def filter_mask(self, states, req):
        need = req.allocation["disk_gb"]
        if not need:
            return None
        return states.local_gb_used + need <= states.cap_disk_gb


class CoreFilter(BaseHostFilter):
    """``vcpus_used + flavor.vcpus <= (vcpus - reserved_host_cpus) * cpu_allocation_ratio``."""

    def filter_mask(self, states, req):
        need = req.allocation["vcpus"]
        if not need:
            return None
        return states.vcpus_used + need <= states.cap_vcpus
