"""ComputeCapabilitiesFilter (Nova): flavor extra specs against the host's
capabilities.

Keys scoped ``capabilities:`` are checked (``capabilities:hypervisor_type``,
``capabilities:cpu_info:arch``, ``capabilities:gpu`` for a ``stats`` key);
unscoped keys are checked only when the host has such an attribute or stats
key (Nova's backward compatibility); other scopes are ignored. The path is
resolved as Nova does: a HostState attribute first, else a key of
``stats``; deeper parts index dicts (JSON strings such as ``cpu_info`` are
decoded). A missing capability fails the host; otherwise ``str(value)`` must
:func:`~controlplane.scheduler.extra_specs_ops.match` the requirement.

Capabilities that all hosts of a capability group share (hypervisor type and
version, cpu_info, supported_instances, stats) are evaluated once per group;
per-host numbers (``free_ram_mb``, ``vcpus_total``, ...) once per distinct value.
"""
import json

import numpy as np

from controlplane.scheduler import extra_specs_ops
from controlplane.scheduler.filters.base import BaseHostFilter, broadcast

SCOPE = "capabilities"
GROUP_ATTRS = ("hypervisor_type", "hypervisor_version", "cpu_info",
               "supported_instances", "stats")
#: per-host attributes: name -> HostStates array
HOST_ATTRS = {"vcpus_total": "vcpus_total", "vcpus_used": "vcpus_used",
              "free_ram_mb": "free_ram_mb", "free_disk_mb": "free_disk_mb",
              "total_usable_ram_mb": "total_usable_ram_mb",
              "total_usable_disk_gb": "total_usable_disk_gb",
              "memory_mb_used": "memory_mb_used", "local_gb_used": "local_gb_used",
              "num_instances": "num_instances", "host": "host", "nodename": "nodename"}

_MISSING = object()


def _fmt(value):
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def resolve(group, path):
    """Value of ``path`` (list of names) on a CapabilityGroup, or None."""
    head = path[0]
    cap = getattr(group, head) if head in GROUP_ATTRS else None
    if cap is None:
        cap = (group.stats or {}).get(head)
    for part in path[1:]:
        if cap is None:
            return None
        if isinstance(cap, str):
            try:
                cap = json.loads(cap)
            except ValueError:
                return None
        cap = cap.get(part) if isinstance(cap, dict) else None
    return cap


def _group_has(group, key):
    return key in GROUP_ATTRS or key in (group.stats or {})


class ComputeCapabilitiesFilter(BaseHostFilter):
    """Pass hosts whose capabilities satisfy the flavor's ``capabilities:`` extra specs."""
    static = False  # per-host attributes may be used

    def filter_mask(self, states, req):
        if not req.extra_specs:
            return None
        group_specs, host_specs = [], []
        for key, want in req.extra_specs.items():
            scope = key.split(":")
            optional = len(scope) == 1
            if not optional:
                if scope[0] != SCOPE:
                    continue
                scope = scope[1:]
            if len(scope) == 1 and scope[0] in HOST_ATTRS:
                host_specs.append((scope[0], want))
            else:
                group_specs.append((scope, want, optional))
        if not group_specs and not host_specs:
            return None
        mask = None
        if group_specs:
            passes = []
            for g in states.cap_groups:
                ok = True
                for path, want, optional in group_specs:
                    if optional and not _group_has(g, path[0]):
                        continue
                    cap = resolve(g, path)
                    if cap is None or not extra_specs_ops.match(_fmt(cap), want):
                        ok = False
                        break
                passes.append(ok)
            mask = broadcast(passes, states.cap_code)
        for attr, want in host_specs:
            values = getattr(states, HOST_ATTRS[attr])
            uniq, inv = np.unique(values, return_inverse=True)
            ok = np.array([extra_specs_ops.match(_fmt(v), want) for v in uniq], dtype=bool)
            m = ok[inv.reshape(-1)]
            mask = m if mask is None else mask & m
        return mask
