"""Pool states: what the volume scheduler knows about every backend pool.

:class:`PoolStates` is a struct of arrays (index ``i`` is one pool) built
from :func:`controlplane.db.volume_pools.get_pool_states` rows, so the
filters and weighers are numpy expressions over all pools at once. Pools
with identical capabilities share a *capability group* (the
CapabilitiesFilter runs once per group). :class:`PoolState` is the
per-pool view with Cinder's ``BackendState``/``PoolState`` field names
(``backend_id`` = ``host@backend#pool``, ``total_capacity_gb``...).

Pools whose ``controlplane-volume`` service is disabled or down (last
heartbeat older than ``[DEFAULT] service_down_time``) are left out, as
Cinder's host manager does.
"""
import dataclasses
import json
import time

import numpy as np

from controlplane.db.services import utcnow

NUMERIC = ("total_capacity_gb", "free_capacity_gb", "allocated_capacity_gb",
           "provisioned_capacity_gb", "max_over_subscription_ratio", "reserved_percentage")
#: pool columns copied into the capability dict the CapabilitiesFilter reads
CAPABILITY_COLUMNS = ("volume_backend_name", "thin_provisioning_support",
                      "thick_provisioning_support", "max_over_subscription_ratio",
                      "reserved_percentage", "availability_zone")


@dataclasses.dataclass
class PoolState:
    """One pool (Cinder's names)."""
    backend_id: str
    host: str
    backend: str
    pool_name: str
    availability_zone: str
    total_capacity_gb: float
    free_capacity_gb: float
    allocated_capacity_gb: float
    provisioned_capacity_gb: float
    thin_provisioning_support: bool
    max_over_subscription_ratio: float
    reserved_percentage: float
    capabilities: dict


def _service_up(row, now, down_time):
    last = row.get("service_updated_at")
    if last is None:
        return False
    return abs((now - last).total_seconds()) <= down_time


class PoolStates:
    """Arrays over the schedulable pools.

    :ivar n: number of pools; :ivar names: ``host@backend#pool`` per pool;
    :ivar backends: ``host@backend`` per pool; float arrays named as
        :data:`NUMERIC`; ``thin_support`` bool array; ``az_codes`` int array
        into ``az_names``; ``cap_codes`` int array into ``cap_groups``
        (capability dicts); ``version`` changes with every rebuild (keys the
        memo of static filter masks); ``built_at`` (monotonic seconds).
    """

    def __init__(self, rows, down_time=60, now=None):
        now = now or utcnow()
        rows = [r for r in rows
                if not r.get("service_disabled") and _service_up(r, now, down_time)]
        self.n = len(rows)
        self.names = [r["name"] for r in rows]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.backends = ["%s@%s" % (r["host"], r["backend"]) for r in rows]
        self.hosts = [r["host"] for r in rows]
        self.pools = [r["pool"] for r in rows]
        for f in NUMERIC:
            setattr(self, f, np.array([float(r.get(f) or 0.0) for r in rows],
                                      dtype=np.float64))
        self.thin_support = np.array([bool(r.get("thin_provisioning_support")) for r in rows],
                                     dtype=bool)
        self.az_names = []
        az_index = {}
        codes = []
        for r in rows:
            az = r.get("availability_zone") or ""
            if az not in az_index:
                az_index[az] = len(self.az_names)
                self.az_names.append(az)
            codes.append(az_index[az])
        self.az_index = az_index
        self.az_codes = np.array(codes, dtype=np.int64)
        self.cap_groups = []
        cap_index = {}
        codes = []
        for r in rows:
            caps = dict(r.get("capabilities") or {})
            for c in CAPABILITY_COLUMNS:
                caps[c] = r.get(c)
            caps["pool_name"] = r["pool"]
            key = json.dumps(caps, sort_keys=True, default=str)
            if key not in cap_index:
                cap_index[key] = len(self.cap_groups)
                self.cap_groups.append(caps)
            codes.append(cap_index[key])
        self.cap_codes = np.array(codes, dtype=np.int64)
        self.version = object()
        self.built_at = time.monotonic()
        self.static_masks = {}

    def consume(self, i, size_gb):
        """Account a claimed volume on pool ``i`` in this snapshot, as
        Cinder's ``consume_from_volume`` (and the DB claim) do."""
        self.allocated_capacity_gb[i] += size_gb
        self.provisioned_capacity_gb[i] += size_gb
        self.free_capacity_gb[i] -= size_gb

    def pool_state(self, i):
        """The :class:`PoolState` of index ``i``."""
        return PoolState(
            backend_id=self.names[i], host=self.hosts[i], backend=self.backends[i],
            pool_name=self.pools[i], availability_zone=self.az_names[self.az_codes[i]],
            total_capacity_gb=float(self.total_capacity_gb[i]),
            free_capacity_gb=float(self.free_capacity_gb[i]),
            allocated_capacity_gb=float(self.allocated_capacity_gb[i]),
            provisioned_capacity_gb=float(self.provisioned_capacity_gb[i]),
            thin_provisioning_support=bool(self.thin_support[i]),
            max_over_subscription_ratio=float(self.max_over_subscription_ratio[i]),
            reserved_percentage=float(self.reserved_percentage[i]),
            capabilities=self.cap_groups[self.cap_codes[i]])
