"""Scheduler weighers by Nova name; ``load_weighers(names)`` raises
``SchedulerConfigError`` for an unknown name."""
from controlplane import exception
from controlplane.scheduler.weighers.base import BaseWeigher, normalize
from controlplane.scheduler.weighers.resources import CPUWeigher, DiskWeigher, RAMWeigher

ALL_WEIGHERS = {cls.__name__: cls for cls in (RAMWeigher, DiskWeigher, CPUWeigher)}


def load_weighers(names):
    """Weigher instances for ``names``; raises SchedulerConfigError on an unknown name."""
    names = [n.strip().rsplit(".", 1)[-1] for n in names if n and n.strip()]
    unknown = [n for n in names if n not in ALL_WEIGHERS]
    if unknown:
        raise exception.SchedulerConfigError(
            reason="unknown weigher(s) %s in [filter_scheduler] weight_classes; "
                   "known weighers: %s" % (", ".join(unknown), ", ".join(sorted(ALL_WEIGHERS))))
    return [ALL_WEIGHERS[n]() for n in names]


__all__ = ["ALL_WEIGHERS", "BaseWeigher", "load_weighers", "normalize"] + sorted(ALL_WEIGHERS)
