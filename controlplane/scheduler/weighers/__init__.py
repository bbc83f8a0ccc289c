"""Scheduler weighers by Nova name; ``load_weighers(names)`` raises
``SchedulerConfigError`` for an unknown name."""
from controlplane.scheduler.plugins import load_by_name
from controlplane.scheduler.weighers.base import BaseWeigher, normalize
from controlplane.scheduler.weighers.resources import CPUWeigher, DiskWeigher, RAMWeigher

ALL_WEIGHERS = {cls.__name__: cls for cls in (RAMWeigher, DiskWeigher, CPUWeigher)}


def load_weighers(names):
    """Weigher instances for ``names``; raises SchedulerConfigError on an unknown name."""
    return load_by_name(ALL_WEIGHERS, names, "weigher", "[filter_scheduler] weight_classes")


__all__ = ["ALL_WEIGHERS", "BaseWeigher", "load_weighers", "normalize"] + sorted(ALL_WEIGHERS)
