"""Scheduler filters by Nova name, and loading them from configuration.

``load_filters(names)`` returns instances in the configured order and
raises ``SchedulerConfigError`` for an unknown name, so a typo in
``[filter_scheduler] enabled_filters`` stops the scheduler at start.
"""
from controlplane.scheduler.plugins import load_by_name
from controlplane.scheduler.filters.affinity import (DifferentHostFilter,
                                                      SameHostFilter,
                                                      ServerGroupAffinityFilter,
                                                      ServerGroupAntiAffinityFilter)
from controlplane.scheduler.filters.aggregate_extra_specs import AggregateInstanceExtraSpecsFilter
from controlplane.scheduler.filters.availability_zone import AvailabilityZoneFilter
from controlplane.scheduler.filters.base import BaseHostFilter
from controlplane.scheduler.filters.capabilities import ComputeCapabilitiesFilter
from controlplane.scheduler.filters.compute import ComputeFilter
from controlplane.scheduler.filters.image_props import ImagePropertiesFilter
from controlplane.scheduler.filters.json_filter import JsonFilter
from controlplane.scheduler.filters.resources import CoreFilter, DiskFilter, RamFilter

ALL_FILTERS = {cls.__name__: cls for cls in (
    ComputeFilter, AvailabilityZoneFilter, RamFilter, DiskFilter, CoreFilter,
    AggregateInstanceExtraSpecsFilter, ComputeCapabilitiesFilter,
    ImagePropertiesFilter, JsonFilter, SameHostFilter, DifferentHostFilter,
    ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter)}


def load_filters(names):
    """Filter instances for ``names`` (in that order).

    :raises SchedulerConfigError: a name is not a known filter.
    """
    return load_by_name(ALL_FILTERS, names, "filter", "[filter_scheduler] enabled_filters")


__all__ = ["ALL_FILTERS", "BaseHostFilter", "load_filters"] + sorted(ALL_FILTERS)
