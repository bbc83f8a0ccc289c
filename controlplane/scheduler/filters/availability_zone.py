"""AvailabilityZoneFilter (Nova): the host is in the requested zone.

A host's zones are the ``availability_zone`` metadata of its aggregates,
or ``CONF.default_availability_zone`` when none sets one. Evaluated once per
aggregate-membership group.
"""
from controlplane.scheduler.filters.base import BaseHostFilter, broadcast


class AvailabilityZoneFilter(BaseHostFilter):
    """Pass hosts whose zone is ``request_spec["availability_zone"]`` (no zone requested: all)."""
    static = True

    def filter_mask(self, states, req):
        az = req.availability_zone
        if not az:
            return None
        return broadcast([az in g.zones for g in states.agg_groups], states.agg_code)
