"""Instance placement relative to other instances (Nova's affinity filters).

The manager looks up where the named instances run before filtering
(``SchedulingRequest.resolve``); each filter is then a host-set mask.

* SameHostFilter: ``same_host`` hint → only hosts running one of them.
* DifferentHostFilter: ``different_host`` hint → no host running one of them.
* ServerGroupAffinityFilter: group policy ``affinity`` → only the group's
  hosts, once it has any (the first member may go anywhere).
* ServerGroupAntiAffinityFilter: policy ``anti-affinity`` → hosts with fewer
  than ``rules.max_server_per_host`` (default 1) members of the group.

Hosts picked earlier in the same multi-instance request count as group
hosts. The soft policies are not filters (Nova weighs them).
"""
import numpy as np

from controlplane.scheduler.filters.base import BaseHostFilter


class SameHostFilter(BaseHostFilter):
    """Pass hosts running at least one instance of the ``same_host`` hint."""
    static = True

    def filter_mask(self, states, req):
        if req.same_host_hosts is None:
            return None
        return states.mask_of_hosts(req.same_host_hosts)


class DifferentHostFilter(BaseHostFilter):
    """Pass hosts running none of the instances of the ``different_host`` hint."""
    static = True

    def filter_mask(self, states, req):
        if req.different_host_hosts is None:
            return None
        if not req.different_host_hosts:
            return None
        return ~states.mask_of_hosts(req.different_host_hosts)


class ServerGroupAffinityFilter(BaseHostFilter):
    """Policy ``affinity``: pass the group's hosts (all hosts while it has none)."""

    def filter_mask(self, states, req):
        if req.group_policy != "affinity" or not req.group_hosts:
            return None
        return states.mask_of_hosts(req.group_hosts)


class ServerGroupAntiAffinityFilter(BaseHostFilter):
    """Policy ``anti-affinity``: pass hosts with fewer than max_server_per_host members."""

    def filter_mask(self, states, req):
        if req.group_policy != "anti-affinity" or not req.group_host_counts:
            return None
        full = [h for h, c in req.group_host_counts.items() if c >= req.max_server_per_host]
        if not full:
            return None
        mask = np.ones(states.n, dtype=bool)
        ix = states.indices_of_hosts(full)
        if ix.size:
            mask[ix] = False
        return mask
