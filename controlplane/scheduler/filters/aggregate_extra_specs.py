"""AggregateInstanceExtraSpecsFilter (Nova): flavor extra specs against the
metadata of the host's aggregates.

Keys scoped ``aggregate_instance_extra_specs:`` (scope removed) and keys
without a scope are checked; keys of another scope (``hw:``,
``capabilities:``, ...) are ignored. For each checked key the host's
aggregates must have that metadata key (values merged over all its
aggregates, comma-separated values split) and one of the values must
:func:`~controlplane.scheduler.extra_specs_ops.match` the requirement.
Evaluated once per aggregate-membership group.
"""
import logging

from controlplane.scheduler import extra_specs_ops
from controlplane.scheduler.filters.base import BaseHostFilter, broadcast

LOG = logging.getLogger(__name__)

SCOPE = "aggregate_instance_extra_specs"


def relevant_specs(extra_specs):
    """``{metadata_key: requirement}`` the filter checks."""
    out = {}
    for key, req in extra_specs.items():
        scope = key.split(":", 1)
        if len(scope) > 1:
            if scope[0] != SCOPE:
                continue
            key = scope[1]
        out[key] = req
    return out


def group_passes(metadata, specs):
    """True when aggregate ``metadata`` ({key: set(values)}) satisfies ``specs``."""
    for key, req in specs.items():
        values = metadata.get(key)
        if not values:
            return False
        if not any(extra_specs_ops.match(v, req) for v in values):
            return False
    return True


class AggregateInstanceExtraSpecsFilter(BaseHostFilter):
    """Pass hosts whose aggregates' metadata satisfy the flavor's extra specs."""
    static = True

    def filter_mask(self, states, req):
        if not req.extra_specs:
            return None
        specs = relevant_specs(req.extra_specs)
        if not specs:
            return None
        return broadcast([group_passes(g.metadata, specs) for g in states.agg_groups],
                         states.agg_code)
