"""Host states: what the scheduler knows about every compute node.

Two views of the same data:

* :class:`HostStates` — a *struct of arrays*: one numpy array per numeric
  field (index ``i`` is one compute node), so that filters and weighers are
  vectorised masks over all hosts at once; plus *groups* of hosts that
  share set-valued inputs (aggregate membership, capabilities) so that
  set-based filters are evaluated once per group and broadcast with
  ``group_pass[codes]``.
* :class:`HostState` — a per-host object (Nova's name and field names) for
  readability, logging and tests: ``states.host_state(i)``.

Resource definitions (Nova's, with Placement's capacity):

* ``free_ram_mb = memory_mb - reserved_host_memory_mb - memory_mb_used``
* ``free_disk_mb = (local_gb - local_gb_used) * 1024 - reserved_host_disk_mb``
* ``total_usable_ram_mb = memory_mb``, ``total_usable_disk_gb = local_gb``
* capacity of a resource = ``(total - reserved) * allocation_ratio``, with
  reserved disk in whole GiB (``ceil(reserved_host_disk_mb / 1024)``) — the
  formula of the claim in :mod:`controlplane.db.compute_nodes`.
"""
import dataclasses
import json
import logging
import math

import numpy as np

LOG = logging.getLogger(__name__)

AZ_KEY = "availability_zone"

#: numeric per-host arrays (float64) and the record key each comes from.
NUMERIC_FIELDS = {
    "vcpus_total": "vcpus", "vcpus_used": "vcpus_used",
    "memory_mb": "memory_mb", "memory_mb_used": "memory_mb_used",
    "local_gb": "local_gb", "local_gb_used": "local_gb_used",
    "reserved_host_memory_mb": "reserved_host_memory_mb",
    "reserved_host_disk_mb": "reserved_host_disk_mb",
    "reserved_host_cpus": "reserved_host_cpus",
    "cpu_allocation_ratio": "cpu_allocation_ratio",
    "ram_allocation_ratio": "ram_allocation_ratio",
    "disk_allocation_ratio": "disk_allocation_ratio",
    "hypervisor_version": "hypervisor_version",
    "num_instances": "num_instances",
}

_NUMERIC_DEFAULTS = {"cpu_allocation_ratio": 16.0, "ram_allocation_ratio": 1.5,
                     "disk_allocation_ratio": 1.0, "hypervisor_version": 1}

#: attributes shared by all hosts of a capability group (see CapabilityGroup).
CAPABILITY_FIELDS = ("hypervisor_type", "hypervisor_version", "cpu_info",
                     "supported_instances", "stats")


@dataclasses.dataclass
class AggregateGroup:
    """Hosts that belong to exactly the same aggregates.

    :ivar aggregates: ``[{"id","uuid","name","metadata"}]``.
    :ivar metadata: ``{key: set(values)}`` merged over the aggregates, each
        value split on commas and stripped (Nova's
        ``aggregate_metadata_get_by_host``).
    :ivar zones: availability zones of these hosts (the default zone when no
        aggregate sets one).
    """
    aggregates: list
    metadata: dict
    zones: frozenset


@dataclasses.dataclass
class CapabilityGroup:
    """Hosts with identical hypervisor_type/version, cpu_info,
    supported_instances and stats (the inputs of ComputeCapabilitiesFilter
    and ImagePropertiesFilter)."""
    hypervisor_type: str
    hypervisor_version: int
    cpu_info: object
    supported_instances: list
    stats: dict


@dataclasses.dataclass
class HostState:
    """One compute node as the scheduler sees it (Nova's HostState fields).

    Built by :meth:`HostStates.host_state`; changing it does not change the
    arrays.
    """
    host: str
    nodename: str
    uuid: str
    cell_uuid: str
    vcpus_total: int
    vcpus_used: int
    total_usable_ram_mb: int
    memory_mb_used: int
    free_ram_mb: int
    total_usable_disk_gb: int
    local_gb_used: int
    free_disk_mb: int
    reserved_host_memory_mb: int
    reserved_host_disk_mb: int
    reserved_host_cpus: int
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    hypervisor_type: str
    hypervisor_version: int
    cpu_info: object
    supported_instances: list
    stats: dict
    up: bool
    disabled: bool
    num_instances: int
    aggregates: list
    availability_zone: str

    def __str__(self):
        return "(%s, %s) ram: %dMB disk: %dMB vcpus: %d/%d instances: %d%s" % (
            self.host, self.nodename, self.free_ram_mb, self.free_disk_mb,
            self.vcpus_used, self.vcpus_total, self.num_instances,
            "" if self.up and not self.disabled else
            " [%s]" % ("disabled" if self.disabled else "down"))


def _split_meta(metadata):
    out = {}
    for k, v in (metadata or {}).items():
        if v is None:
            continue
        out.setdefault(k, set()).update(x.strip() for x in str(v).split(","))
    return out


def _json_key(obj):
    return json.dumps(obj, sort_keys=True, default=str)


class HostStates:
    """Struct-of-arrays snapshot of every compute node.

    :param records: iterable of dicts with ``host``, ``nodename`` (or
        ``hypervisor_hostname``), ``uuid``, ``cell_uuid``, totals (``vcpus``,
        ``memory_mb``, ``local_gb``), ``*_used``, reserved amounts, ratios,
        ``hypervisor_type``, ``hypervisor_version``, ``cpu_info``, ``stats``
        (dict), ``supported_instances`` (list of ``[arch, hv_type, vm_mode]``),
        ``up`` and ``disabled`` (bools), ``num_instances``. Missing numeric
        keys are 0 (ratios: 16.0/1.5/1.0).
    :param host_aggregates: ``{host: [{"id","uuid","name","metadata"}]}`` as
        from :func:`controlplane.db.aggregates.host_aggregates_map`.
    :param default_az: zone of hosts in no zone aggregate.

    Arrays (length ``n``): every key of :data:`NUMERIC_FIELDS` (float64),
    ``free_ram_mb``, ``free_disk_mb``, ``total_usable_ram_mb``,
    ``total_usable_disk_gb``, ``cap_vcpus``, ``cap_ram_mb``, ``cap_disk_gb``,
    ``usable`` (up and enabled), ``up``, ``disabled`` (bool), ``host``,
    ``nodename``, ``uuid``, ``cell_uuid``, ``hypervisor_type`` (object),
    ``agg_code``/``cap_code``/``cell_code`` (int32 indices into
    ``agg_groups``/``cap_groups``/``cells``).
    """

    def __init__(self, records, host_aggregates=None, default_az="nova"):
        records = list(records)
        host_aggregates = host_aggregates or {}
        self.default_az = default_az
        n = self.n = len(records)
        for name, key in NUMERIC_FIELDS.items():
            default = _NUMERIC_DEFAULTS.get(name, 0)
            arr = np.fromiter(((r.get(key) if r.get(key) is not None else default)
                               for r in records), dtype=np.float64, count=n)
            setattr(self, name, arr)
        self.host = np.array([r["host"] for r in records], dtype=object)
        self.nodename = np.array([r.get("nodename") or r.get("hypervisor_hostname")
                                  or r["host"] for r in records], dtype=object)
        self.uuid = np.array([r["uuid"] for r in records], dtype=object)
        self.cell_uuid = np.array([r.get("cell_uuid") for r in records], dtype=object)
        self.hypervisor_type = np.array([r.get("hypervisor_type") for r in records],
                                        dtype=object)
        self.up = np.fromiter((bool(r.get("up", True)) for r in records), dtype=bool, count=n)
        self.disabled = np.fromiter((bool(r.get("disabled", False)) for r in records),
                                    dtype=bool, count=n)
        self.usable = self.up & ~self.disabled

        # Cells.
        self.cells = []
        cell_ix = {}
        self.cell_code = np.empty(n, dtype=np.int32)
        for i, c in enumerate(self.cell_uuid):
            self.cell_code[i] = cell_ix.setdefault(c, len(cell_ix))
        self.cells = list(cell_ix)

        # Aggregate groups: one per distinct set of aggregates.
        self.agg_groups = []
        agg_ix = {}
        self.agg_code = np.empty(n, dtype=np.int32)
        for i, r in enumerate(records):
            aggs = host_aggregates.get(r["host"], ())
            sig = tuple(sorted(a["id"] for a in aggs))
            code = agg_ix.get(sig)
            if code is None:
                code = agg_ix[sig] = len(self.agg_groups)
                meta = {}
                for a in aggs:
                    for k, vals in _split_meta(a.get("metadata")).items():
                        meta.setdefault(k, set()).update(vals)
                zones = {a["metadata"][AZ_KEY] for a in aggs
                         if (a.get("metadata") or {}).get(AZ_KEY)}
                self.agg_groups.append(AggregateGroup(
                    aggregates=list(aggs), metadata=meta,
                    zones=frozenset(zones or {default_az})))
            self.agg_code[i] = code

        # Capability groups.
        self.cap_groups = []
        cap_ix = {}
        self.cap_code = np.empty(n, dtype=np.int32)
        for i, r in enumerate(records):
            vals = (r.get("hypervisor_type"), int(r.get("hypervisor_version") or 0),
                    r.get("cpu_info"), r.get("supported_instances") or [],
                    r.get("stats") or {})
            key = _json_key(vals)
            code = cap_ix.get(key)
            if code is None:
                code = cap_ix[key] = len(self.cap_groups)
                self.cap_groups.append(CapabilityGroup(*vals))
            self.cap_code[i] = code

        # Index by host name and node uuid.
        self.host_index = {}
        for i, h in enumerate(self.host):
            self.host_index.setdefault(h, []).append(i)
        self.uuid_index = {u: i for i, u in enumerate(self.uuid)}
        self._derive(slice(None))

    # -- derived values ------------------------------------------------------

    def _derive(self, ix):
        """(Re)compute derived arrays at ``ix`` (a slice or an index)."""
        if isinstance(ix, slice):
            self.reserved_disk_gb = np.ceil(self.reserved_host_disk_mb / 1024.0)
            self.total_usable_ram_mb = self.memory_mb
            self.total_usable_disk_gb = self.local_gb
            self.cap_vcpus = (self.vcpus_total - self.reserved_host_cpus) * self.cpu_allocation_ratio
            self.cap_ram_mb = ((self.memory_mb - self.reserved_host_memory_mb)
                               * self.ram_allocation_ratio)
            self.cap_disk_gb = (self.local_gb - self.reserved_disk_gb) * self.disk_allocation_ratio
            self.free_ram_mb = self.memory_mb - self.reserved_host_memory_mb - self.memory_mb_used
            self.free_disk_mb = ((self.local_gb - self.local_gb_used) * 1024.0
                                 - self.reserved_host_disk_mb)
        else:
            self.free_ram_mb[ix] = (self.memory_mb[ix] - self.reserved_host_memory_mb[ix]
                                    - self.memory_mb_used[ix])
            self.free_disk_mb[ix] = ((self.local_gb[ix] - self.local_gb_used[ix]) * 1024.0
                                     - self.reserved_host_disk_mb[ix])

    def consume(self, i, vcpus, memory_mb, disk_gb, sign=1):
        """Add an allocation to host ``i`` (``sign=-1`` takes it back).

        Nova's ``consume_from_request``: later picks of the same request and
        of concurrent requests see the usage before the next refresh.
        """
        self.vcpus_used[i] += sign * vcpus
        self.memory_mb_used[i] += sign * memory_mb
        self.local_gb_used[i] += sign * disk_gb
        self.num_instances[i] += sign
        self._derive(i)

    # -- lookups -------------------------------------------------------------

    def __len__(self):
        return self.n

    def indices_of_hosts(self, hosts):
        """Sorted int array of the indices of nodes whose host is in ``hosts``."""
        out = []
        for h in hosts or ():
            out.extend(self.host_index.get(h, ()))
        return np.array(sorted(set(out)), dtype=np.intp)

    def mask_of_hosts(self, hosts):
        """Bool mask: True where the node's host is in ``hosts``."""
        mask = np.zeros(self.n, dtype=bool)
        ix = self.indices_of_hosts(hosts)
        if ix.size:
            mask[ix] = True
        return mask

    def availability_zone(self, i):
        return ",".join(sorted(self.agg_groups[self.agg_code[i]].zones))

    def host_state(self, i):
        """The :class:`HostState` of node ``i`` (a copy)."""
        i = int(i)
        cap = self.cap_groups[self.cap_code[i]]
        return HostState(
            host=self.host[i], nodename=self.nodename[i], uuid=self.uuid[i],
            cell_uuid=self.cell_uuid[i],
            vcpus_total=int(self.vcpus_total[i]), vcpus_used=int(self.vcpus_used[i]),
            total_usable_ram_mb=int(self.memory_mb[i]),
            memory_mb_used=int(self.memory_mb_used[i]),
            free_ram_mb=int(self.free_ram_mb[i]),
            total_usable_disk_gb=int(self.local_gb[i]),
            local_gb_used=int(self.local_gb_used[i]),
            free_disk_mb=int(self.free_disk_mb[i]),
            reserved_host_memory_mb=int(self.reserved_host_memory_mb[i]),
            reserved_host_disk_mb=int(self.reserved_host_disk_mb[i]),
            reserved_host_cpus=int(self.reserved_host_cpus[i]),
            cpu_allocation_ratio=float(self.cpu_allocation_ratio[i]),
            ram_allocation_ratio=float(self.ram_allocation_ratio[i]),
            disk_allocation_ratio=float(self.disk_allocation_ratio[i]),
            hypervisor_type=cap.hypervisor_type, hypervisor_version=cap.hypervisor_version,
            cpu_info=cap.cpu_info, supported_instances=cap.supported_instances,
            stats=cap.stats, up=bool(self.up[i]), disabled=bool(self.disabled[i]),
            num_instances=int(self.num_instances[i]),
            aggregates=self.agg_groups[self.agg_code[i]].aggregates,
            availability_zone=self.availability_zone(i))

    def __iter__(self):
        for i in range(self.n):
            yield self.host_state(i)


def record_from_db_row(row, cell_uuid, is_up):
    """A HostStates record from a row of ``compute_nodes.get_host_state_rows``.

    :param is_up: callable(service_dict) -> bool (Nova's servicegroup check,
        e.g. :func:`controlplane.db.services.is_up`).
    """
    rec = dict(row)
    rec["nodename"] = row["hypervisor_hostname"]
    rec["cell_uuid"] = cell_uuid
    rec["disabled"] = bool(row.get("service_disabled"))
    rec["up"] = bool(is_up({"forced_down": row.get("service_forced_down"),
                            "last_seen_up": row.get("last_seen_up")}))
    return rec


def allocation_for(flavor):
    """``{"vcpus", "memory_mb", "disk_gb"}`` a flavor takes on a node.

    ``disk_gb = root_gb + ephemeral_gb + ceil(swap_mb / 1024)`` (Nova's
    DISK_GB resource request).
    """
    flavor = flavor or {}
    return {"vcpus": int(flavor.get("vcpus") or 0),
            "memory_mb": int(flavor.get("memory_mb") or 0),
            "disk_gb": int(flavor.get("root_gb") or 0) + int(flavor.get("ephemeral_gb") or 0)
            + int(math.ceil((flavor.get("swap") or 0) / 1024.0))}
