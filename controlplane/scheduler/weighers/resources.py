"""RAMWeigher, DiskWeigher, CPUWeigher (Nova): spread (positive multiplier)
or stack (negative multiplier) by free resources.

* RAMWeigher: ``free_ram_mb`` × ``[filter_scheduler] ram_weight_multiplier``
* DiskWeigher: ``free_disk_mb`` × ``disk_weight_multiplier``
* CPUWeigher: free vCPUs ``(vcpus - reserved) * cpu_allocation_ratio -
  vcpus_used`` × ``cpu_weight_multiplier``
"""
from controlplane.conf import CONF
from controlplane.scheduler.weighers.base import BaseWeigher


class RAMWeigher(BaseWeigher):
    """Weigh by free RAM (MiB)."""

    def weight_multiplier(self):
        return CONF.filter_scheduler.ram_weight_multiplier

    def raw_weights(self, states, idx, req):
        return states.free_ram_mb[idx]


class DiskWeigher(BaseWeigher):
    """Weigh by free disk (MiB)."""

    def weight_multiplier(self):
        return CONF.filter_scheduler.disk_weight_multiplier

    def raw_weights(self, states, idx, req):
        return states.free_disk_mb[idx]


class CPUWeigher(BaseWeigher):
    """Weigh by free vCPUs under the allocation ratio."""

    def weight_multiplier(self):
        return CONF.filter_scheduler.cpu_weight_multiplier

    def raw_weights(self, states, idx, req):
        return states.cap_vcpus[idx] - states.vcpus_used[idx]
